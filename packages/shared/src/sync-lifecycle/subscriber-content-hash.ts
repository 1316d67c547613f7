import type { EncryptionService } from '../encryption/encryption.service';
import type { EspSubscriber } from '../esp/esp-client';

/**
 * Part of every hash's text: bump it when the same ESP record would be stored differently (the
 * sanitizer's rules, the address's normalisation for its HMAC, the mask). Every stored hash then
 * differs, so the next sync of each list compares every row's fields once (and rewrites what
 * differs, the hash at least) instead of trusting hashes of the old rules.
 */
const CONTENT_HASH_VERSION = 2;

function timeText(date: Date | null | undefined): string {
  // getTime, not toISOString: an impossible date the sanitizer will empty must not throw here.
  return date == null ? 'null' : String(date.getTime());
}

/**
 * 16 bytes as 32 hex digits, stored in `subscribers.content_hash`, that change whenever the ESP's
 * record of a subscriber does: its address, status, names, dates or metadata (`metadataJson`, the
 * text of `JSON.stringify(subscriber.metadata ?? {})`, which the caller makes once for the write
 * too).
 *
 * Taken over the record as the ESP client mapped it, before sanitizing: the sanitizer and the
 * address's HMAC are pure functions of that record, so an equal hash means an equal stored row,
 * and a re-sync tells unchanged subscribers from one hash each, without sanitizing them or
 * hashing their addresses. Keyed (EncryptionService.contentDigest), because the text holds the
 * address itself.
 */
export function subscriberContentHash(
  encryption: EncryptionService,
  subscriber: EspSubscriber,
  metadataJson: string,
): string {
  const text =
    `[${CONTENT_HASH_VERSION},${JSON.stringify(subscriber.email)},` +
    `${JSON.stringify(subscriber.status)},${JSON.stringify(subscriber.firstName)},` +
    `${JSON.stringify(subscriber.lastName)},${timeText(subscriber.subscribedAt)},` +
    `${timeText(subscriber.unsubscribedAt)},${metadataJson}]`;
  return encryption.contentDigest(text);
}
