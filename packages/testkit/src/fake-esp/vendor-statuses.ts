import { CategoryMask, otherStatusMask } from './category-block-index';
import type { FakeEspType } from './fake-esp-types';
import type { FakeSubscriberRecord } from './fake-list';
import type { SubscriberState } from './subscriber-generator';

type NamedState = Exclude<SubscriberState, 'other'>;

/** Each vendor's name for our states (beehiiv 'invalid' for bounced is our own choice). */
const NAMED_STATUSES: Record<FakeEspType, Record<NamedState, string>> = {
  beehiiv: {
    active: 'active',
    unsubscribed: 'inactive',
    bounced: 'invalid',
    complained: 'inactive',
  },
  kit: {
    active: 'active',
    unsubscribed: 'cancelled',
    bounced: 'bounced',
    complained: 'complained',
  },
  mailchimp: {
    active: 'subscribed',
    unsubscribed: 'unsubscribed',
    bounced: 'cleaned',
    complained: 'unsubscribed',
  },
};

/**
 * Each vendor's statuses that map to none of active/unsubscribed/bounced (ESP-APIS.md §0), in
 * the order a list's `otherStatusEvery` hands them out.
 */
export const OTHER_STATUSES: Record<FakeEspType, readonly string[]> = {
  beehiiv: ['validating', 'pending', 'needs_attention', 'paused'],
  kit: ['inactive'],
  mailchimp: ['pending', 'transactional', 'archived'],
};

/** The vendor's status string for a subscriber ('subscribed', 'cancelled', 'archived', ...). */
export function vendorStatus(
  esp: FakeEspType,
  record: Pick<FakeSubscriberRecord, 'state' | 'otherStatus'>,
): string {
  return record.state === 'other'
    ? OTHER_STATUSES[esp][record.otherStatus ?? 0]
    : NAMED_STATUSES[esp][record.state];
}

/** The categories a vendor's status filter selects for one of its statuses outside our model. */
export function otherStatusFilter(esp: FakeEspType, status: string): CategoryMask {
  const n = OTHER_STATUSES[esp].indexOf(status);
  if (n < 0) throw new Error(`${esp} has no status '${status}' outside our model`);
  return otherStatusMask(n);
}
