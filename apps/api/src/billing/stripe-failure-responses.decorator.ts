import { applyDecorators } from '@nestjs/common';
import { ApiBadGatewayResponse, ApiServiceUnavailableResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from '../http/error-response.dto';

/** Documents the answers of a route that calls Stripe live (see stripe-request-failed.ts). */
export const StripeFailureResponses = () =>
  applyDecorators(
    ApiBadGatewayResponse({
      type: ErrorResponseDto,
      description: 'Stripe refused the request (an operator should check the Stripe settings)',
    }),
    ApiServiceUnavailableResponse({
      type: ErrorResponseDto,
      description: 'Stripe could not be reached or is limiting our requests; try again shortly',
    }),
  );
