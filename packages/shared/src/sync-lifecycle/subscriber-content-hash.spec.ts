import { createHash } from 'node:crypto';
import { SubscriberContent, subscriberContentHash } from './subscriber-page';

// How every stored `content_hash` was made before the hash was built from its parts: a hash that
// drifted from it would make the next re-sync of every list rewrite every row.
const storedFormula = (content: SubscriberContent): Buffer =>
  createHash('sha256')
    .update(
      JSON.stringify([
        content.emailHmac,
        content.status,
        content.firstName,
        content.lastName,
        content.subscribedAt?.toISOString() ?? null,
        content.unsubscribedAt?.toISOString() ?? null,
        content.metadata ?? {},
      ]),
    )
    .digest()
    .subarray(0, 16);

const content = (overrides: Partial<SubscriberContent> = {}): SubscriberContent => ({
  externalId: 'sub_1',
  emailHmac: 'ab'.repeat(32),
  status: 'active',
  firstName: 'Jane',
  lastName: 'O\'Hara "Jr"',
  subscribedAt: new Date('2026-01-02T03:04:05.678Z'),
  unsubscribedAt: null,
  metadata: { tier: 'free', tags: ['vip', '🎉'], nested: { note: 'line\nbreak\u2028' }, n: 1.5 },
  ...overrides,
});

describe('subscriberContentHash', () => {
  it.each([
    ['every field set', content({ unsubscribedAt: new Date('2026-03-04T00:00:00Z') })],
    ['names and dates missing', content({ firstName: null, lastName: null, subscribedAt: null })],
    ['empty metadata', content({ metadata: {} })],
    ['unicode and escapes in names', content({ firstName: 'Zoë \\ \t 名前', lastName: '' })],
  ])('hashes exactly as the stored hashes were made (%s)', (_, subscriber) => {
    expect(subscriberContentHash(subscriber)).toEqual(storedFormula(subscriber));
  });

  it('uses the metadata JSON the caller already made, the text the upsert sends', () => {
    const subscriber = content();
    const withJson = { ...subscriber, metadataJson: JSON.stringify(subscriber.metadata) };
    expect(subscriberContentHash(withJson)).toEqual(storedFormula(subscriber));
  });

  it('changes when any compared field does', () => {
    const base = subscriberContentHash(content());
    for (const change of [
      { emailHmac: 'cd'.repeat(32) },
      { status: 'unsubscribed' as const },
      { firstName: 'June' },
      { lastName: null },
      { subscribedAt: new Date('2026-01-02T03:04:05.679Z') },
      { unsubscribedAt: new Date('2026-01-02T03:04:05.678Z') },
      { metadata: { tier: 'premium' } },
    ]) {
      expect(subscriberContentHash(content(change))).not.toEqual(base);
    }
  });
});
