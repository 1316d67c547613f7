import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from '../http/error-response.dto';
import {
  SUBSCRIPTION_REQUIRED_ACTION,
  SubscriptionRequiredGuard,
} from './subscription-required.guard';

/**
 * Puts a route behind the subscription gate (SubscriptionRequiredGuard) and documents its 402.
 * `action` completes the refusal: "An active subscription is required to <action>; …". Only for
 * routes that start paid work: reads and exports must never carry it.
 */
export const SubscriptionRequired = (action: string) =>
  applyDecorators(
    SetMetadata(SUBSCRIPTION_REQUIRED_ACTION, action),
    UseGuards(SubscriptionRequiredGuard),
    ApiResponse({
      status: 402,
      type: ErrorResponseDto,
      description:
        'Stripe billing is enabled on this server and the caller has no active subscription ' +
        '(active or trialing, or canceled / past due before the paid period ends); subscribe ' +
        'at POST /billing/create-checkout-session',
    }),
  );
