import { randomBytes } from 'node:crypto';
import { EncryptionService } from '../encryption/encryption.service';
import type { EspSubscriber } from '../esp/esp-client';
import { subscriberContentHash } from './subscriber-content-hash';

const encryption = (hmacKey = randomBytes(32).toString('base64')) =>
  EncryptionService.fromSettings({
    ENCRYPTION_KEY: `k1:${randomBytes(32).toString('base64')}`,
    HMAC_KEY: hmacKey,
  });

const listed = (overrides: Partial<EspSubscriber> = {}): EspSubscriber => ({
  externalId: 'sub_1',
  email: 'Jane.Doe@example.com',
  status: 'active',
  firstName: 'Jane',
  lastName: 'O\'Hara "Jr"',
  subscribedAt: new Date('2026-01-02T03:04:05.678Z'),
  unsubscribedAt: null,
  metadata: { tier: 'free', tags: ['vip', '🎉'], nested: { note: 'line\nbreak\u2028' }, n: 1.5 },
  ...overrides,
});

const hashOf = (service: EncryptionService, subscriber: EspSubscriber) =>
  subscriberContentHash(service, subscriber, JSON.stringify(subscriber.metadata ?? {}));

describe('subscriberContentHash', () => {
  const service = encryption();

  it('is the same 32 hex digits for the same record, whatever its object identity', () => {
    const hash = hashOf(service, listed());
    expect(hash).toMatch(/^[0-9a-f]{32}$/);
    expect(hashOf(service, listed())).toEqual(hash);
  });

  it('changes when anything the sync stores does, the address exactly as listed included', () => {
    const base = hashOf(service, listed());
    for (const change of [
      { email: 'jane.doe@example.com' },
      { email: ' Jane.Doe@example.com' },
      { status: 'unsubscribed' as const },
      { firstName: 'June' },
      { firstName: null },
      { lastName: null },
      { subscribedAt: new Date('2026-01-02T03:04:05.679Z') },
      { subscribedAt: null },
      { unsubscribedAt: new Date('2026-01-02T03:04:05.678Z') },
      { metadata: { tier: 'premium' } },
    ]) {
      expect(hashOf(service, listed(change))).not.toEqual(base);
    }
  });

  it('takes impossible dates, which the sanitizer empties, without throwing', () => {
    const odd = listed({ subscribedAt: new Date('not a date') });
    expect(hashOf(service, odd)).toMatch(/^[0-9a-f]{32}$/);
    expect(hashOf(service, odd)).not.toEqual(hashOf(service, listed({ subscribedAt: null })));
  });

  it('hashes the metadata text the caller made, the text the write sends', () => {
    const subscriber = listed();
    expect(subscriberContentHash(service, subscriber, '{"other":true}')).not.toEqual(
      hashOf(service, subscriber),
    );
  });

  it('is keyed by the HMAC key: the same key gives the same hash, another key another', () => {
    const subscriber = listed();
    expect(hashOf(encryption(), subscriber)).not.toEqual(hashOf(service, subscriber));
    const hmacKey = randomBytes(32).toString('base64');
    expect(hashOf(encryption(hmacKey), subscriber)).toEqual(
      hashOf(encryption(hmacKey), subscriber),
    );
  });
});
