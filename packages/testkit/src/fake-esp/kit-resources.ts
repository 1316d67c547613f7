import { ALL_CATEGORIES, CategoryMask, stateMask } from './category-block-index';
import { kitSubscriberId } from './external-ids';
import { FakeList, FakeSubscriberRecord } from './fake-list';
import { TIMELINE_START, vendorLane } from './subscriber-generator';
import { utcDateTime } from './timestamps';
import { otherStatusFilter, vendorStatus } from './vendor-statuses';

/** The `status` filter values Kit accepts (its default is `active`; `all` is every state). */
export const KIT_STATUS_FILTERS: Record<string, CategoryMask> = {
  all: ALL_CATEGORIES,
  active: stateMask(['active']),
  cancelled: stateMask(['unsubscribed']),
  bounced: stateMask(['bounced']),
  complained: stateMask(['complained']),
  inactive: otherStatusFilter('kit', 'inactive'),
};

/** "2023-01-27T11:43:55Z": ISO 8601 in UTC without milliseconds. */
export function kitTimestamp(unixSeconds: number): string {
  return `${utcDateTime(unixSeconds)}Z`;
}

/** A subscriber object as GET /v4/subscribers returns it (~5% have no first name). */
export function kitSubscriber(
  list: FakeList,
  record: FakeSubscriberRecord,
  include: ReadonlySet<string>,
): Record<string, unknown> {
  const subscriber: Record<string, unknown> = {
    id: kitSubscriberId(record.index),
    first_name:
      !record.renamed && list.generator.unit(record.index, vendorLane(0)) < 0.05
        ? null
        : record.firstName,
    email_address: record.email,
    state: vendorStatus('kit', record),
    created_at: kitTimestamp(record.createdAt),
    fields: { last_name: record.lastName },
  };
  if (include.has('canceled_at')) {
    subscriber.canceled_at =
      record.state === 'unsubscribed' ? kitTimestamp(record.changedAt) : null;
  }
  return subscriber;
}

/** GET /v4/account: the account is the list; its id is the list id (a number when numeric). */
export function kitAccount(list: FakeList): Record<string, unknown> {
  const slug = list.id.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  const email = `owner@${slug}.example.test`;
  return {
    user: { email },
    account: {
      id: /^\d{1,15}$/.test(list.id) ? Number(list.id) : list.id,
      name: list.name,
      plan_type: 'creator',
      primary_email_address: email,
      created_at: kitTimestamp(TIMELINE_START - 30 * 86_400),
      timezone: { name: 'Etc/UTC', friendly_name: 'UTC', utc_offset: '+00:00' },
    },
  };
}
