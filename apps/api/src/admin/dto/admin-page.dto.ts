import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

export const ADMIN_PAGE_DEFAULT_LIMIT = 20;
export const ADMIN_PAGE_MAX_LIMIT = 100;

/** `?page=&limit=` of the admin lists (dead letter, cron ticks): offset pages. */
export class AdminPageQueryDto {
  @ApiPropertyOptional({ minimum: 1, default: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  page: number = 1;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: ADMIN_PAGE_MAX_LIMIT,
    default: ADMIN_PAGE_DEFAULT_LIMIT,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(ADMIN_PAGE_MAX_LIMIT)
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
