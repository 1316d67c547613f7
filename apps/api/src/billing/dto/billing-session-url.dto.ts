import { ApiProperty } from '@nestjs/swagger';

/** Where to send the owner's browser: a Stripe-hosted page (Checkout or the customer portal). */
export class BillingSessionUrlDto {
  @ApiProperty({
    format: 'uri',
    example: 'https://checkout.stripe.com/c/pay/cs_test_a1b2c3',
    description: 'A Stripe-hosted page; redirect the browser there',
  })
  url: string;
}
