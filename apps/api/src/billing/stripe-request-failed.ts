import {
  BadGatewayException,
  HttpException,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import type Stripe from 'stripe';

/** What may be logged of a failed Stripe call: its kind and ids, never its message or params. */
export interface StripeFailureFacts {
  type: string;
  code?: string;
  statusCode?: number;
  requestId?: string;
}

/** The Stripe SDK's error, if `error` is one (checked against the client's own classes). */
export function asStripeError(
  stripe: Stripe,
  error: unknown,
): InstanceType<Stripe['errors']['StripeError']> | null {
  return error instanceof stripe.errors.StripeError ? error : null;
}

export function stripeFailureFacts(
  error: InstanceType<Stripe['errors']['StripeError']>,
): StripeFailureFacts {
  return {
    type: error.type,
    code: error.code,
    statusCode: error.statusCode,
    requestId: error.requestId,
  };
}

/**
 * The HTTP answer for a Stripe call that failed: the caller's request was fine, Stripe (or our
 * Stripe settings) was not. Unreachable or rate-limiting Stripe is a 503 to retry later; anything
 * else it refused is a 502. Stripe's own message is not passed on: it may quote parameters (an
 * address) and speaks to us, not to the owner. A 404 from Stripe is the caller's to interpret
 * (`notFound`), since only the route knows which id was wrong.
 */
export function stripeRequestFailed(
  stripe: Stripe,
  error: InstanceType<Stripe['errors']['StripeError']>,
  notFound?: string,
): HttpException {
  if (notFound && error.statusCode === 404) return new NotFoundException(notFound);
  if (error instanceof stripe.errors.StripeConnectionError || error.statusCode === undefined) {
    return new ServiceUnavailableException('Stripe could not be reached; try again shortly');
  }
  if (error instanceof stripe.errors.StripeRateLimitError || error.statusCode === 429) {
    return new ServiceUnavailableException('Stripe is limiting our requests; try again shortly');
  }
  return new BadGatewayException(
    `Stripe refused the request (HTTP ${error.statusCode}, ${error.type}); try again later`,
  );
}
