import { ApiPropertyOptional } from '@nestjs/swagger';
import { SUBSCRIBER_STATUSES, SubscriberStatus } from '@subscribernest/shared';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { IntQueryParam } from '../../http/int-query-param.decorator';

export const SUBSCRIBERS_DEFAULT_LIMIT = 20;
export const SUBSCRIBERS_MAX_LIMIT = 100;
/**
 * The deepest row offset paging reaches: `page × limit` at most 10,000. An offset page costs a
 * scan of every row before it, so deeper pages are a 400 pointing to `cursor`, whose pages cost
 * the same at any depth.
 */
export const SUBSCRIBERS_MAX_PAGED_ROWS = 10_000;

/** `?page=&limit=&status=&cursor=` of the subscriber lists. */
export class SubscriberListQueryDto {
  @IntQueryParam({
    minimum: 1,
    maximum: SUBSCRIBERS_MAX_PAGED_ROWS,
    default: 1,
    description:
      `Page number (offset paging), from 1, with \`page × limit\` at most ` +
      `${SUBSCRIBERS_MAX_PAGED_ROWS.toLocaleString('en-US')} (deeper is a 400: walk the list ` +
      'with `cursor` instead). Not allowed together with `cursor`.',
  })
  page?: number;

  @IntQueryParam({
    minimum: 1,
    maximum: SUBSCRIBERS_MAX_LIMIT,
    default: SUBSCRIBERS_DEFAULT_LIMIT,
    description: `Rows per page, 1 to ${SUBSCRIBERS_MAX_LIMIT}`,
  })
  limit: number = SUBSCRIBERS_DEFAULT_LIMIT;

  @ApiPropertyOptional({
    enum: SUBSCRIBER_STATUSES,
    description: 'Only subscribers in this status',
  })
  @IsOptional()
  @IsIn(SUBSCRIBER_STATUSES, {
    message: `status must be one of: ${SUBSCRIBER_STATUSES.join(', ')}`,
  })
  status?: SubscriberStatus;

  @ApiPropertyOptional({
    description:
      'Keyset paging: the `nextCursor` of the previous answer, passed back unchanged. Each page ' +
      'costs the same however deep it is.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  @Matches(/^[A-Za-z0-9_-]+$/, {
    message: 'cursor is not a cursor this list gave out (pass back nextCursor unchanged)',
  })
  cursor?: string;
}
