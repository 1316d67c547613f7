import { ApiProperty } from '@nestjs/swagger';

/** The caller's Stripe subscription, as last applied from Stripe. */
export class BillingSubscriptionDto {
  @ApiProperty({ example: 'sub_1QzX2bLkdIwHu7ix', description: "Stripe's subscription id" })
  id: string;

  @ApiProperty({
    example: 'active',
    description:
      "Stripe's status: active, trialing, past_due, canceled, unpaid, incomplete, " +
      'incomplete_expired or paused',
  })
  status: string;

  @ApiProperty({ description: 'True when the owner cancelled: it ends at currentPeriodEnd' })
  cancelAtPeriodEnd: boolean;
}
