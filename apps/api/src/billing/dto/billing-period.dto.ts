import { ApiProperty } from '@nestjs/swagger';
import {
  BILLING_PERIOD_STATUSES,
  BillingPeriod,
  BillingPeriodStatus,
  centsToDollars,
} from '@subscribernest/shared';

/** A `YYYY-MM-DD` UTC day as the ISO instant it starts at. */
const startOfDay = (day: string): string => new Date(`${day}T00:00:00.000Z`).toISOString();

/** One closed (or closing) billing month. */
export class BillingPeriodDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({
    type: String,
    format: 'date-time',
    description: 'First instant of the month, UTC',
  })
  billingPeriodStart: string;

  @ApiProperty({
    type: String,
    format: 'date-time',
    description: 'First instant of the next month, UTC (exclusive end)',
  })
  billingPeriodEnd: string;

  @ApiProperty({ type: 'integer', minimum: 0 })
  maxSubscriberCount: number;

  @ApiProperty({ minimum: 0, description: 'In dollars (stored in integer cents)' })
  calculatedAmount: number;

  @ApiProperty({ enum: BILLING_PERIOD_STATUSES })
  status: BillingPeriodStatus;

  @ApiProperty({ type: String, nullable: true })
  stripeInvoiceId: string | null;

  static from(period: BillingPeriod): BillingPeriodDto {
    return {
      id: period.id,
      billingPeriodStart: startOfDay(period.periodStart),
      billingPeriodEnd: startOfDay(period.periodEnd),
      maxSubscriberCount: period.maxSubscriberCount,
      calculatedAmount: centsToDollars(period.amountCents),
      status: period.status,
      stripeInvoiceId: period.stripeInvoiceId,
    };
  }
}
