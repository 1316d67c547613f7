import { CategoryMask, stateMask } from './category-block-index';
import { mailchimpMemberId } from './external-ids';
import { FakeList, FakeSubscriberRecord } from './fake-list';
import { TIMELINE_START, vendorLane } from './subscriber-generator';
import { utcDateTime } from './timestamps';
import { otherStatusFilter, vendorStatus } from './vendor-statuses';

// Module-level bindings: hot loops reading the global `Math` are ~10x slower under jest's vm.
const { max, round } = Math;

/** The `status` filter values Mailchimp accepts; without one, every status is listed. */
export const MAILCHIMP_STATUS_FILTERS: Record<string, CategoryMask> = {
  subscribed: stateMask(['active']),
  unsubscribed: stateMask(['unsubscribed', 'complained']),
  cleaned: stateMask(['bounced']),
  pending: otherStatusFilter('mailchimp', 'pending'),
  transactional: otherStatusFilter('mailchimp', 'transactional'),
  archived: otherStatusFilter('mailchimp', 'archived'),
};

/** "2019-02-20T16:59:47+00:00", Mailchimp's date format. */
export function mailchimpTimestamp(unixSeconds: number): string {
  return `${utcDateTime(unixSeconds)}+00:00`;
}

/**
 * A member object. Unknown dates are "" as in real responses: ~10% have no timestamp_signup,
 * ~7% no timestamp_opt (about 1% neither).
 */
export function mailchimpMember(list: FakeList, record: FakeSubscriberRecord): unknown {
  const { index } = record;
  const dates = list.generator.unit(index, vendorLane(0));
  const signup = dates < 0.1 ? '' : mailchimpTimestamp(record.createdAt - 120);
  const optIn = dates >= 0.09 && dates < 0.16 ? '' : mailchimpTimestamp(record.createdAt);
  const opens = round(list.generator.unit(index, vendorLane(1)) * 100) / 100;
  const id = mailchimpMemberId(record.email);
  const status = vendorStatus('mailchimp', record);
  return {
    id,
    email_address: record.email,
    // Derived from the id rather than hashed again: pages of 1000 members must stay cheap.
    unique_email_id: id.slice(22),
    contact_id: id.slice(16) + id.slice(0, 16),
    full_name: `${record.firstName} ${record.lastName}`,
    web_id: 100_000_000 + index,
    email_type: 'html',
    status,
    // undefined drops out of the JSON: only unsubscribed members carry a reason.
    unsubscribe_reason: status === 'unsubscribed' ? 'N/A (Unsubscribed by admin)' : undefined,
    consents_to_one_to_one_messaging: true,
    merge_fields: { FNAME: record.firstName, LNAME: record.lastName, ADDRESS: '', PHONE: '' },
    interests: {},
    stats: { avg_open_rate: opens, avg_click_rate: round(opens * 20) / 100 },
    ip_signup: '',
    timestamp_signup: signup,
    ip_opt: '',
    timestamp_opt: optIn,
    member_rating: 1 + (list.generator.bits(index, vendorLane(8)) % 5),
    last_changed: mailchimpTimestamp(max(record.changedAt, record.createdAt)),
    language: '',
    vip: false,
    email_client: '',
    location: {
      latitude: 0,
      longitude: 0,
      gmtoff: 0,
      dstoff: 0,
      country_code: '',
      timezone: '',
      region: '',
    },
    source: 'Import',
    tags_count: 0,
    tags: [],
    list_id: list.id,
    _links: [],
  };
}

/** A list object; `stats` counts the list's current state. */
export function mailchimpList(list: FakeList, webId: number): Record<string, unknown> {
  const members = list.count(MAILCHIMP_STATUS_FILTERS.subscribed);
  const unsubscribed = list.count(MAILCHIMP_STATUS_FILTERS.unsubscribed);
  const cleaned = list.count(MAILCHIMP_STATUS_FILTERS.cleaned);
  const newest = list.next(list.indexLimit - 1, -1);
  return {
    id: list.id,
    web_id: webId,
    name: list.name,
    contact: {
      company: `${list.name} Inc.`,
      address1: '1 Example Street',
      city: 'Atlanta',
      state: 'GA',
      zip: '30308',
      country: 'US',
    },
    permission_reminder: 'You signed up on our website.',
    use_archive_bar: true,
    campaign_defaults: {
      from_name: list.name,
      from_email: 'news@example.test',
      subject: '',
      language: 'en',
    },
    date_created: mailchimpTimestamp(TIMELINE_START - 30 * 86_400),
    list_rating: 3,
    email_type_option: false,
    visibility: 'prv',
    double_optin: false,
    stats: {
      member_count: members,
      unsubscribe_count: unsubscribed,
      cleaned_count: cleaned,
      member_count_since_send: members,
      unsubscribe_count_since_send: unsubscribed,
      cleaned_count_since_send: cleaned,
      campaign_count: 0,
      campaign_last_sent: '',
      merge_field_count: 4,
      avg_sub_rate: 0,
      avg_unsub_rate: 0,
      target_sub_rate: 0,
      open_rate: 0,
      click_rate: 0,
      last_sub_date: newest === undefined ? '' : mailchimpTimestamp(list.record(newest).createdAt),
      last_unsub_date: '',
    },
    _links: [],
  };
}
