import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { STRIPE_CLIENT } from '@subscribernest/shared';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import type Stripe from 'stripe';
import { EntityManager } from 'typeorm';
import { BillingDisabledException } from './billing-disabled.exception';
import { BillingSettings } from './billing-settings';
import { StripeWebhookReceivedDto } from './dto/stripe-webhook-received.dto';
import { StripeInvoiceService } from './stripe-invoice.service';
import { StripeSubscriptionService } from './stripe-subscription.service';
import { StripeWebhookEventRepository } from './stripe-webhook-event.repository';
import { WebhookOutcome } from './webhook-outcome';

/**
 * POST /billing/webhook: verifies a delivery against STRIPE_WEBHOOK_SECRET and applies it at most
 * once (stripe_webhook_events). Payloads hold addresses and names, so nothing of one is logged:
 * only the event's id, type and outcome.
 */
@Injectable()
export class StripeWebhookService {
  constructor(
    @Inject(STRIPE_CLIENT) private readonly stripe: Stripe | null,
    private readonly settings: BillingSettings,
    private readonly events: StripeWebhookEventRepository,
    private readonly subscriptions: StripeSubscriptionService,
    private readonly invoices: StripeInvoiceService,
    @InjectPinoLogger(StripeWebhookService.name) private readonly logger: PinoLogger,
  ) {}

  /**
   * `rawBody` is the request body exactly as received (the signature covers those bytes, not a
   * re-serialisation of the parsed JSON). A missing or wrong signature is a 400 with nothing
   * changed; Stripe shows it in the endpoint's delivery log.
   */
  async receive(
    rawBody: Buffer | undefined,
    signature: string | undefined,
  ): Promise<StripeWebhookReceivedDto> {
    if (!this.stripe) throw new BillingDisabledException();
    const event = this.verify(this.stripe, rawBody, signature);
    const facts = { id: event.id, type: event.type, createdAt: new Date(event.created * 1000) };
    let outcome: WebhookOutcome | null;
    try {
      outcome = await this.events.applyOnce(facts, (manager) =>
        this.apply(manager, event, facts.createdAt),
      );
    } catch (error) {
      // Rolled back: Stripe's next delivery of this event applies it afresh.
      this.logger.error(
        { eventId: event.id, type: event.type, err: { type: (error as Error)?.name } },
        'Stripe webhook event failed; Stripe will retry it',
      );
      throw error;
    }
    this.logger.info(
      { eventId: event.id, type: event.type, outcome: outcome ?? 'duplicate' },
      'Stripe webhook event',
    );
    return outcome === null
      ? { received: true, duplicate: true }
      : { received: true, duplicate: false, outcome };
  }

  private verify(
    stripe: Stripe,
    rawBody: Buffer | undefined,
    signature: string | undefined,
  ): Stripe.Event {
    if (!signature) {
      throw new BadRequestException('Missing Stripe-Signature header: only Stripe may call this');
    }
    if (!rawBody || rawBody.length === 0) {
      throw new BadRequestException(
        'Missing request body: Stripe posts the event as JSON (Content-Type: application/json)',
      );
    }
    let event: Stripe.Event;
    try {
      event = stripe.webhooks.constructEvent(rawBody, signature, this.settings.webhookSecret);
    } catch {
      // The SDK's error quotes the payload: it is not logged, and not needed to say what is wrong.
      this.logger.warn('Stripe webhook rejected: bad signature');
      throw new BadRequestException(
        "Invalid Stripe-Signature: the body was not signed with this endpoint's secret, or the " +
          'timestamp is too old',
      );
    }
    if (!isEventShape(event)) {
      throw new BadRequestException('The signed body is not a Stripe event');
    }
    return event;
  }

  /** What each event type does; any other type is recorded as `ignored`. */
  private apply(manager: EntityManager, event: Stripe.Event, at: Date): Promise<WebhookOutcome> {
    switch (event.type) {
      case 'customer.subscription.created':
      case 'customer.subscription.updated':
        return this.subscriptions.apply(manager, event.data.object, at);
      case 'customer.subscription.deleted':
        return this.subscriptions.apply(manager, event.data.object, at, { deleted: true });
      case 'invoice.paid':
        return this.invoices.apply(manager, event.data.object, 'paid', at);
      case 'invoice.payment_failed':
        return this.invoices.apply(manager, event.data.object, 'failed', at);
      default:
        return Promise.resolve('ignored');
    }
  }
}

/** The fields the ledger stores, within its column sizes. */
function isEventShape(event: Stripe.Event): boolean {
  const { id, type, created } = event as Partial<Stripe.Event>;
  return (
    typeof id === 'string' &&
    id.length > 0 &&
    id.length <= 255 &&
    typeof type === 'string' &&
    type.length > 0 &&
    type.length <= 100 &&
    typeof created === 'number' &&
    Number.isFinite(created) &&
    typeof event.data?.object === 'object' &&
    event.data.object !== null
  );
}
