import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { WEBHOOK_OUTCOMES, WebhookOutcome } from '../webhook-outcome';

/** Stripe only reads the status; the body says what happened, for people reading the logs. */
export class StripeWebhookReceivedDto {
  @ApiProperty({ example: true })
  received: true;

  @ApiProperty({ description: 'True when this event id was applied before: nothing changed' })
  duplicate: boolean;

  @ApiPropertyOptional({
    enum: WEBHOOK_OUTCOMES,
    description: 'What applying it did (absent for a duplicate)',
  })
  outcome?: WebhookOutcome;
}
