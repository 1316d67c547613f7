import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { hasEntitledSubscription } from '@subscribernest/shared';
import { AuthenticatedRequest } from '../auth/authenticated-request';
import { BillingAccountRepository } from './billing-account.repository';
import { BillingSettings } from './billing-settings';
import { PaymentRequiredException } from './payment-required.exception';

/** Metadata key: what the gated route does, for the 402's message. */
export const SUBSCRIPTION_REQUIRED_ACTION = 'billing:subscription-required-action';

/**
 * The subscription gate of the routes that start work costing money (connecting an ESP, a manual
 * sync), applied by `@SubscriptionRequired()`. Runs after the global session guards. With billing
 * disabled it lets everything through; with it, the caller needs an entitled subscription
 * (hasEntitledSubscription, the same rule the midnight fan-out applies in SQL), else 402.
 */
@Injectable()
export class SubscriptionRequiredGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly settings: BillingSettings,
    private readonly accounts: BillingAccountRepository,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!this.settings.enabled) return true;
    const user = context.switchToHttp().getRequest<AuthenticatedRequest>().auth?.user;
    if (!user) throw new UnauthorizedException('Sign in first');
    if (hasEntitledSubscription(await this.accounts.findByUserId(user.id))) return true;
    const action =
      this.reflector.get<string | undefined>(SUBSCRIPTION_REQUIRED_ACTION, context.getHandler()) ??
      'do this';
    throw new PaymentRequiredException(
      `An active subscription is required to ${action}; subscribe at POST /billing/create-checkout-session`,
    );
  }
}
