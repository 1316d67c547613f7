import { ApiProperty } from '@nestjs/swagger';
import { IntQueryParam, MAX_PAGE } from '../../http/int-query-param.decorator';

export const ADMIN_PAGE_DEFAULT_LIMIT = 20;
export const ADMIN_PAGE_MAX_LIMIT = 100;

/** `?page=&limit=` of the admin lists (dead letter, cron ticks): offset pages. */
export class AdminPageQueryDto {
  @IntQueryParam({
    minimum: 1,
    maximum: MAX_PAGE,
    default: 1,
    description: `Page number, 1 to ${MAX_PAGE}`,
  })
  page: number = 1;

  @IntQueryParam({
    minimum: 1,
    maximum: ADMIN_PAGE_MAX_LIMIT,
    default: ADMIN_PAGE_DEFAULT_LIMIT,
    description: `Rows per page, 1 to ${ADMIN_PAGE_MAX_LIMIT}`,
  })
  limit: number = ADMIN_PAGE_DEFAULT_LIMIT;
}

/** The paging fields of an admin list answer (its `data` is declared by each list). */
export abstract class AdminPageFieldsDto {
  @ApiProperty({ description: 'Rows matching the filters, all pages together' })
  total: number;

  @ApiProperty()
  page: number;

  @ApiProperty()
  limit: number;

  @ApiProperty()
  totalPages: number;
}

/** The answer for one page of `data` out of `total`, as `query` asked for it. */
export function adminPage<T>(
  data: T[],
  total: number,
  query: AdminPageQueryDto,
): AdminPageFieldsDto & { data: T[] } {
  return {
    data,
    total,
    page: query.page,
    limit: query.limit,
    totalPages: Math.ceil(total / query.limit),
  };
}
