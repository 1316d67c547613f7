import { ConflictException } from '@nestjs/common';

/**
 * 409 from the Stripe routes on a server without STRIPE_SECRET_KEY: the request is fine, this
 * deployment just does not bill (every user counts as subscribed there).
 */
export class BillingDisabledException extends ConflictException {
  constructor() {
    super(
      'Billing is not enabled on this server (Stripe is not configured); every account may use ' +
        'every feature without a subscription',
    );
  }
}
