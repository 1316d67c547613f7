import { Body, Controller, Get, HttpCode, HttpStatus, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { User } from '@subscribernest/shared';
import { CurrentUser } from '../auth/current-user.decorator';
import { ErrorResponseDto } from '../http/error-response.dto';
import { BillingCheckoutService } from './billing-checkout.service';
import { BillingService } from './billing.service';
import { BillingHistoryQueryDto } from './dto/billing-history-query.dto';
import { BillingPeriodDto } from './dto/billing-period.dto';
import { BillingSessionUrlDto } from './dto/billing-session-url.dto';
import { BillingStatusDto } from './dto/billing-status.dto';
import { BillingUsageDto } from './dto/billing-usage.dto';
import { VerifyCheckoutSessionDto } from './dto/verify-checkout-session.dto';
import { StripeFailureResponses } from './stripe-failure-responses.decorator';

const DISABLED = 'Billing is not enabled on this server (Stripe is not configured)';

@ApiTags('billing')
@Controller('billing')
export class BillingController {
  constructor(
    private readonly billing: BillingService,
    private readonly checkout: BillingCheckoutService,
  ) {}

  @Get('status')
  @ApiOperation({
    summary: "The caller's subscription",
    description:
      'With Stripe configured: the subscription last applied from Stripe (webhooks, or ' +
      'verify-checkout-session). Without: every user counts as subscribed, with no subscription ' +
      'and no period end.',
  })
  @ApiOkResponse({ type: BillingStatusDto })
  status(@CurrentUser() user: User): Promise<BillingStatusDto> {
    return this.billing.status(user.id);
  }

  @Get('usage')
  @ApiOperation({
    summary: 'The current UTC month so far',
    description:
      "The billed count (the sum over the caller's connections of each one's highest stored " +
      'subscriber count this month, from the snapshots the sync writes) and its price in dollars.',
  })
  @ApiOkResponse({ type: BillingUsageDto })
  usage(@CurrentUser() user: User): Promise<BillingUsageDto> {
    return this.billing.usage(user.id);
  }

  @Get('history')
  @ApiOperation({ summary: "The caller's billing periods, newest first" })
  @ApiOkResponse({ type: [BillingPeriodDto] })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Bad limit' })
  history(
    @CurrentUser() user: User,
    @Query() query: BillingHistoryQueryDto,
  ): Promise<BillingPeriodDto[]> {
    return this.billing.history(user.id, query.limit);
  }

  @Post('create-checkout-session')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Start a subscription: a Stripe Checkout page',
    description:
      "Creates the caller's Stripe customer on first use, then a Checkout Session for the " +
      'metered price. Checkout returns to BILLING_RETURN_URL with `?session_id=…`: hand it to ' +
      'POST /billing/verify-checkout-session.',
  })
  @ApiOkResponse({ type: BillingSessionUrlDto })
  @ApiConflictResponse({
    type: ErrorResponseDto,
    description: `Already subscribed, or: ${DISABLED}`,
  })
  @StripeFailureResponses()
  createCheckoutSession(@CurrentUser() user: User): Promise<BillingSessionUrlDto> {
    return this.checkout.createCheckoutSession(user);
  }

  @Post('create-portal-session')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: "Manage the subscription: Stripe's customer portal",
    description: 'Card, invoices, cancellation. Returns to BILLING_RETURN_URL.',
  })
  @ApiOkResponse({ type: BillingSessionUrlDto })
  @ApiConflictResponse({
    type: ErrorResponseDto,
    description: `No Stripe customer yet (never went to checkout), or: ${DISABLED}`,
  })
  @StripeFailureResponses()
  createPortalSession(@CurrentUser() user: User): Promise<BillingSessionUrlDto> {
    return this.checkout.createPortalSession(user);
  }

  @Post('verify-checkout-session')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Confirm a finished checkout, without waiting for the webhook',
    description:
      'Reads the Checkout Session from Stripe; once it is complete, stores its subscription ' +
      'and answers the new status.',
  })
  @ApiOkResponse({ type: BillingStatusDto })
  @ApiBadRequestResponse({ type: ErrorResponseDto, description: 'Not a Checkout Session id' })
  @ApiNotFoundResponse({
    type: ErrorResponseDto,
    description: 'No such session, or not one of the caller',
  })
  @ApiConflictResponse({ type: ErrorResponseDto, description: DISABLED })
  @StripeFailureResponses()
  verifyCheckoutSession(
    @CurrentUser() user: User,
    @Body() body: VerifyCheckoutSessionDto,
  ): Promise<BillingStatusDto> {
    return this.checkout.verifyCheckoutSession(user, body.sessionId);
  }
}
