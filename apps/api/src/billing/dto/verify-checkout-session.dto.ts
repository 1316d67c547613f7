import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches, MaxLength } from 'class-validator';

/** Stripe's Checkout Session ids: `cs_test_…` or `cs_live_…` and letters and digits. */
export const CHECKOUT_SESSION_ID = /^cs_[A-Za-z0-9_]{1,250}$/;

export class VerifyCheckoutSessionDto {
  @ApiProperty({
    example: 'cs_test_a1B2c3D4e5F6g7H8i9J0',
    description:
      'The `session_id` Stripe appended to BILLING_RETURN_URL when Checkout returned the owner',
    pattern: CHECKOUT_SESSION_ID.source,
    maxLength: 255,
  })
  @IsString()
  @MaxLength(255)
  @Matches(CHECKOUT_SESSION_ID, {
    message: 'sessionId must be a Stripe Checkout Session id (cs_…)',
  })
  sessionId: string;
}
