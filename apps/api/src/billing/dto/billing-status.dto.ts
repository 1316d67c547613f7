import { ApiProperty } from '@nestjs/swagger';

/** Whether the caller may use the paid features, as the frontend's billing pages read it. */
export class BillingStatusDto {
  @ApiProperty({
    description:
      'Always true while billing is disabled on this server (every user counts as subscribed)',
  })
  hasActiveSubscription: boolean;

  @ApiProperty({
    type: Object,
    nullable: true,
    description: 'The Stripe subscription; null while billing is disabled',
  })
  subscription: null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'End of the paid period; null while billing is disabled',
  })
  currentPeriodEnd: string | null;

  @ApiProperty({ description: 'Whether this server bills through Stripe (false: not configured)' })
  billingEnabled: boolean;
}
