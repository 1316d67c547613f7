import { IntQueryParam } from '../../http/int-query-param.decorator';

export const BILLING_HISTORY_DEFAULT_LIMIT = 12;
export const BILLING_HISTORY_MAX_LIMIT = 100;

export class BillingHistoryQueryDto {
  @IntQueryParam({
    minimum: 1,
    maximum: BILLING_HISTORY_MAX_LIMIT,
    default: BILLING_HISTORY_DEFAULT_LIMIT,
    description: `Billing periods to return, newest first: 1 to ${BILLING_HISTORY_MAX_LIMIT}`,
  })
  limit: number = BILLING_HISTORY_DEFAULT_LIMIT;
}
