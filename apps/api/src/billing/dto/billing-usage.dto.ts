import { ApiProperty } from '@nestjs/swagger';

/** The current UTC month so far: what it would cost if it ended now. */
export class BillingUsageDto {
  @ApiProperty({
    type: 'integer',
    minimum: 0,
    description:
      "Billed subscribers this month: the sum over the caller's connections of each one's highest " +
      'stored count (any status)',
  })
  maxSubscriberCount: number;

  @ApiProperty({ minimum: 0, description: 'Price of that count, in dollars (e.g. 14 or 5)' })
  calculatedAmount: number;

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
}
