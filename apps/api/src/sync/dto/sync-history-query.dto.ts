import { IntQueryParam } from '../../http/int-query-param.decorator';

export const SYNC_HISTORY_DEFAULT_LIMIT = 20;
export const SYNC_HISTORY_MAX_LIMIT = 100;

export class SyncHistoryQueryDto {
  @IntQueryParam({
    minimum: 1,
    maximum: SYNC_HISTORY_MAX_LIMIT,
    default: SYNC_HISTORY_DEFAULT_LIMIT,
    description: `Runs to return, newest first: 1 to ${SYNC_HISTORY_MAX_LIMIT}`,
  })
  limit: number = SYNC_HISTORY_DEFAULT_LIMIT;
}
