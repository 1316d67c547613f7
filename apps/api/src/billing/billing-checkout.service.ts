import {
  BadGatewayException,
  ConflictException,
  Inject,
  Injectable,
  NotFoundException,
} from '@nestjs/common';
import { hasEntitledSubscription, STRIPE_CLIENT, User } from '@subscribernest/shared';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import type Stripe from 'stripe';
import { BillingAccountRepository } from './billing-account.repository';
import { BillingDisabledException } from './billing-disabled.exception';
import { BillingSettings } from './billing-settings';
import { BillingSessionUrlDto } from './dto/billing-session-url.dto';
import { BillingStatusDto } from './dto/billing-status.dto';
import { StripeSubscriptionService } from './stripe-subscription.service';
import { stripeObjectId } from './stripe-object-id';
import { asStripeError, stripeFailureFacts, stripeRequestFailed } from './stripe-request-failed';

/** Why a session id of someone else's (or of no one's) answers the same 404. */
const NO_SUCH_SESSION = 'No such checkout session for this account';

/**
 * The owner's way into Stripe: Checkout to subscribe, the customer portal to manage or cancel,
 * and the verification the billing page calls when Checkout returns (so the page shows the new
 * subscription at once, before or without the webhook). Every call answers 409 while billing is
 * disabled on this server.
 */
@Injectable()
export class BillingCheckoutService {
  constructor(
    @Inject(STRIPE_CLIENT) private readonly stripe: Stripe | null,
    private readonly settings: BillingSettings,
    private readonly accounts: BillingAccountRepository,
    private readonly subscriptions: StripeSubscriptionService,
    @InjectPinoLogger(BillingCheckoutService.name) private readonly logger: PinoLogger,
  ) {}

  /** A Checkout page subscribing the user to STRIPE_PRICE_ID; 409 if they are subscribed. */
  async createCheckoutSession(user: User): Promise<BillingSessionUrlDto> {
    const stripe = this.client();
    const account = await this.accounts.findByUserId(user.id);
    if (hasEntitledSubscription(account)) {
      throw new ConflictException(
        'This account already has an active subscription; manage it in the customer portal ' +
          '(POST /billing/create-portal-session)',
      );
    }
    const customer = account?.stripeCustomerId ?? (await this.createCustomer(stripe, user));
    const returnUrl = this.settings.returnUrl;
    const session = await this.call(stripe, 'checkout.sessions.create', () =>
      stripe.checkout.sessions.create({
        mode: 'subscription',
        customer,
        // Metered price: Stripe refuses a quantity, usage comes from the worker's meter events.
        line_items: [{ price: this.settings.priceId }],
        client_reference_id: user.id,
        // The webhook finds the user from these when no row holds the customer yet.
        subscription_data: { metadata: { userId: user.id } },
        metadata: { userId: user.id },
        // Stripe fills in {CHECKOUT_SESSION_ID}; the page hands it to verify-checkout-session.
        success_url: `${returnUrl}?session_id={CHECKOUT_SESSION_ID}`,
        cancel_url: returnUrl,
      }),
    );
    if (!session.url)
      throw new BadGatewayException('Stripe returned a checkout session without a URL');
    this.logger.info(
      { userId: user.id, checkoutSessionId: session.id },
      'Checkout session created',
    );
    return { url: session.url };
  }

  /** The customer portal (update the card, see invoices, cancel); 409 before any checkout. */
  async createPortalSession(user: User): Promise<BillingSessionUrlDto> {
    const stripe = this.client();
    const customer = (await this.accounts.findByUserId(user.id))?.stripeCustomerId;
    if (!customer) {
      throw new ConflictException(
        'This account has no Stripe customer yet; subscribe first (POST /billing/create-checkout-session)',
      );
    }
    const session = await this.call(stripe, 'billingPortal.sessions.create', () =>
      stripe.billingPortal.sessions.create({ customer, return_url: this.settings.returnUrl }),
    );
    return { url: session.url };
  }

  /**
   * Reads the session live and, once it is complete, stores its subscription through the same
   * code as the webhook (as of now: it was just read). A session that is not this user's is a
   * 404, like one that does not exist.
   */
  async verifyCheckoutSession(user: User, sessionId: string): Promise<BillingStatusDto> {
    const stripe = this.client();
    const session = await this.call(
      stripe,
      'checkout.sessions.retrieve',
      () => stripe.checkout.sessions.retrieve(sessionId, { expand: ['subscription'] }),
      NO_SUCH_SESSION,
    );
    const account = await this.accounts.findByUserId(user.id);
    const owned =
      session.client_reference_id === user.id &&
      account?.stripeCustomerId != null &&
      stripeObjectId(session.customer) === account.stripeCustomerId;
    if (!owned) throw new NotFoundException(NO_SUCH_SESSION);

    if (session.status === 'complete' && session.subscription) {
      const subscription =
        typeof session.subscription === 'string'
          ? await this.call(stripe, 'subscriptions.retrieve', () =>
              stripe.subscriptions.retrieve(session.subscription as string),
            )
          : session.subscription;
      const outcome = await this.subscriptions.applyLive(subscription);
      this.logger.info(
        { userId: user.id, checkoutSessionId: session.id, outcome },
        'Checkout session verified',
      );
    }
    return BillingStatusDto.from(await this.accounts.findByUserId(user.id));
  }

  private client(): Stripe {
    if (!this.stripe) throw new BillingDisabledException();
    return this.stripe;
  }

  /**
   * The user's Stripe customer, created once: the idempotency key makes concurrent first
   * checkouts (and a retry after a lost answer) get the same customer from Stripe, and the upsert
   * keeps whichever was stored first.
   */
  private async createCustomer(stripe: Stripe, user: User): Promise<string> {
    const customer = await this.call(stripe, 'customers.create', () =>
      stripe.customers.create(
        { email: user.email, metadata: { userId: user.id } },
        { idempotencyKey: `customer:${user.id}` },
      ),
    );
    const stored = await this.accounts.saveCustomer(user.id, customer.id);
    this.logger.info({ userId: user.id, stripeCustomerId: stored }, 'Stripe customer stored');
    return stored;
  }

  /** Runs one Stripe call, turning its failure into the answer it deserves (and a log line). */
  private async call<T>(
    stripe: Stripe,
    operation: string,
    request: () => Promise<T>,
    notFound?: string,
  ): Promise<T> {
    try {
      return await request();
    } catch (error) {
      const stripeError = asStripeError(stripe, error);
      if (!stripeError) throw error;
      this.logger.warn(
        { operation, stripe: stripeFailureFacts(stripeError) },
        'Stripe call failed',
      );
      throw stripeRequestFailed(stripe, stripeError, notFound);
    }
  }
}
