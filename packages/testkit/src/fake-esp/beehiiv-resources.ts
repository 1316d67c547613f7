import {
  ALL_CATEGORIES,
  CategoryMask,
  FREE_TIER_MASK,
  PREMIUM_TIER_MASK,
  stateMask,
} from './category-block-index';
import { beehiivSubscriptionId } from './external-ids';
import { FakeList, FakeSubscriberRecord } from './fake-list';
import { TIMELINE_START, vendorLane } from './subscriber-generator';
import { otherStatusFilter, vendorStatus } from './vendor-statuses';

// Module-level bindings: hot loops reading the global `Math` are ~10x slower under jest's vm.
const { floor, round } = Math;

/**
 * The `status` filter values beehiiv documents. `all` (the default) also returns
 * needs_attention and paused, which are statuses but no documented filter value.
 */
export const BEEHIIV_STATUS_FILTERS: Record<string, CategoryMask> = {
  all: ALL_CATEGORIES,
  active: stateMask(['active']),
  inactive: stateMask(['unsubscribed', 'complained']),
  invalid: stateMask(['bounced']),
  validating: otherStatusFilter('beehiiv', 'validating'),
  pending: otherStatusFilter('beehiiv', 'pending'),
};

export const BEEHIIV_TIER_FILTERS: Record<string, CategoryMask> = {
  all: ALL_CATEGORIES,
  free: FREE_TIER_MASK,
  premium: PREMIUM_TIER_MASK,
};

const CHANNELS = ['', '', 'website', 'import', 'api', 'referral', 'embed'];
const SOURCES = ['', '', 'twitter', 'newsletter', 'google', 'linkedin', 'podcast'];
const MEDIUMS = ['', '', 'social', 'email', 'cpc', 'organic'];
const SITES = [
  '',
  '',
  '',
  'https://www.google.com/',
  'https://news.example.test/',
  'https://t.co/',
];
const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

function pick(list: FakeList, index: number, lane: number, options: readonly string[]): string {
  return options[list.generator.bits(index, vendorLane(lane)) % options.length];
}

/** A subscription object as GET /publications/{id}/subscriptions returns it. */
export function beehiivSubscription(
  list: FakeList,
  record: FakeSubscriberRecord,
  expand: ReadonlySet<string>,
): Record<string, unknown> {
  const { index } = record;
  const code = list.generator.bits(index, vendorLane(9));
  let referralCode = '';
  for (let n = code, i = 0; i < 6; i++, n = floor(n / CODE_ALPHABET.length)) {
    referralCode += CODE_ALPHABET[n % CODE_ALPHABET.length];
  }
  const subscription: Record<string, unknown> = {
    id: beehiivSubscriptionId(list, index),
    email: record.email,
    status: vendorStatus('beehiiv', record),
    created: record.createdAt,
    subscription_tier: record.premium ? 'premium' : 'free',
    subscription_premium_tier_names: record.premium ? ['Premium'] : [],
    utm_source: pick(list, index, 1, SOURCES),
    utm_medium: pick(list, index, 2, MEDIUMS),
    utm_channel: pick(list, index, 3, CHANNELS),
    utm_campaign: list.generator.unit(index, vendorLane(4)) < 0.1 ? 'launch-week' : '',
    utm_term: '',
    utm_content: '',
    referring_site: pick(list, index, 5, SITES),
    referral_code: referralCode,
  };
  if (expand.has('custom_fields')) {
    subscription.custom_fields = [
      { name: 'first_name', kind: 'string', value: record.firstName },
      { name: 'last_name', kind: 'string', value: record.lastName },
    ];
  }
  if (expand.has('stats')) {
    const received = list.generator.bits(index, vendorLane(6)) % 200;
    subscription.stats = {
      emails_received: received,
      open_rate: received === 0 ? 0 : round(list.generator.unit(index, vendorLane(7)) * 1e4) / 100,
      click_through_rate:
        received === 0 ? 0 : round(list.generator.unit(index, vendorLane(8)) * 2e3) / 100,
    };
  }
  if (expand.has('newsletter_lists')) subscription.newsletter_list_ids = [];
  return subscription;
}

/** A publication object; with `stats` expanded it counts the list's current state. */
export function beehiivPublication(
  list: FakeList,
  expand: ReadonlySet<string>,
): Record<string, unknown> {
  const publication: Record<string, unknown> = {
    id: list.id,
    name: list.name,
    organization_name: `${list.name} Media`,
    referral_program_enabled: false,
    created: TIMELINE_START - 30 * 86_400,
  };
  if (expand.has('stats')) {
    const active = BEEHIIV_STATUS_FILTERS.active;
    const premium = list.count(active & PREMIUM_TIER_MASK);
    const free = list.count(active & FREE_TIER_MASK);
    publication.stats = {
      active_subscriptions: premium + free,
      active_premium_subscriptions: premium,
      active_free_subscriptions: free,
      average_open_rate: 41.7,
      average_click_rate: 3.2,
      total_sent: (premium + free) * 12,
      total_unique_opened: round((premium + free) * 12 * 0.417),
      total_clicked: round((premium + free) * 12 * 0.032),
    };
  }
  return publication;
}
