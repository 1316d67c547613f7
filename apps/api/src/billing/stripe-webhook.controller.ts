import { Controller, Headers, HttpCode, HttpStatus, Post, Req } from '@nestjs/common';
import type { RawBodyRequest } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import { IncomingMessage } from 'node:http';
import { Public } from '../auth/public.decorator';
import { ErrorResponseDto } from '../http/error-response.dto';
import { StripeWebhookReceivedDto } from './dto/stripe-webhook-received.dto';
import { StripeWebhookService } from './stripe-webhook.service';

/**
 * Stripe's endpoint. Public (Stripe has no session; the signature is the authentication) and
 * never throttled: Stripe delivers bursts after an outage, and a refused delivery only comes back
 * later, with backoff, for up to three days.
 */
@ApiTags('billing')
@Controller('billing')
@Public()
@SkipThrottle()
export class StripeWebhookController {
  constructor(private readonly webhooks: StripeWebhookService) {}

  @Post('webhook')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: "Stripe's webhook (called by Stripe only)",
    description:
      'Verifies the Stripe-Signature header over the raw body with STRIPE_WEBHOOK_SECRET, then ' +
      'applies customer.subscription.created / updated / deleted and invoice.paid / ' +
      'payment_failed, once per event id and never an older state over a newer one. Other event ' +
      'types are acknowledged and ignored.',
  })
  @ApiHeader({
    name: 'stripe-signature',
    required: true,
    description: '`t=<unix seconds>,v1=<HMAC-SHA256>` as Stripe signs every delivery',
  })
  @ApiBody({
    description: 'A Stripe Event object, byte for byte as Stripe sent it',
    schema: { type: 'object' },
  })
  @ApiOkResponse({ type: StripeWebhookReceivedDto })
  @ApiBadRequestResponse({
    type: ErrorResponseDto,
    description: 'Missing or invalid signature, or a body that is not a signed Stripe event',
  })
  @ApiConflictResponse({
    type: ErrorResponseDto,
    description: 'Billing is not enabled on this server',
  })
  receive(
    @Req() request: RawBodyRequest<IncomingMessage>,
    @Headers('stripe-signature') signature: string | undefined,
  ): Promise<StripeWebhookReceivedDto> {
    return this.webhooks.receive(request.rawBody, signature);
  }
}
