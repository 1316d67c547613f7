import { EspSubscriber } from '../esp/esp-client';

/**
 * Why a subscriber the ESP sent was not stored. Counted per run (`sync_runs.skip_reasons`) and
 * shown in the sync history; the rest of the list syncs.
 */
export const SKIP_REASONS = [
  'malformed-email',
  'invalid-external-id',
  'status-not-stored',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** The bounded columns of `subscribers`, in characters (Postgres counts code points). */
export const SUBSCRIBER_TEXT_LIMITS = {
  externalId: 255,
  name: 255,
  email: 320,
} as const;

export type SanitizedSubscriber =
  | { stored: true; subscriber: EspSubscriber }
  | { stored: false; reason: SkipReason; externalId: string | null };

// C0 controls but tab, line feed and carriage return (names keep their line breaks, as the ESP
// has them), DEL and C1 controls. NUL in particular: Postgres refuses it in text and jsonb.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
// eslint-disable-next-line no-control-regex -- as above
const ANY_CONTROL = /[\u0000-\u001F\u007F-\u009F]/;
// A UTF-16 surrogate without its other half: no UTF-8 for it, and jsonb refuses its escape.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const HAS_LONE_SURROGATE = new RegExp(LONE_SURROGATE.source);
// What cleanText would change: a control character or a lone surrogate. Nearly every value has
// neither, and one test without a match costs far less than two replaces and a copy.
const NEEDS_CLEANING = new RegExp(`${CONTROL.source}|${LONE_SURROGATE.source}`);
// The same characters as JSON.stringify writes them: C0 controls as `\u00XX`, `\b` or `\f` (tab,
// line feed and carriage return, which are kept, as `\t`, `\n`, `\r`), DEL and C1 controls as
// they are, lone surrogates as `\udXXX` (paired ones as they are). An escaped backslash before
// such letters also matches: a false alarm, settled by the exact walk; it never misses one.
const JSON_TEXT_MAY_NEED_CLEANING =
  /\\u00(?:0[0-8bcef]|1[0-9a-f])|\\[bf]|[\u007F-\u009F]|\\ud[89a-f]/i;

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Text Postgres accepts: control characters dropped, lone surrogates replaced by U+FFFD. */
export function cleanText(text: string): string {
  if (!NEEDS_CLEANING.test(text)) return text;
  return text.replace(CONTROL, '').replace(LONE_SURROGATE, '\uFFFD');
}

/**
 * `text` cut to at most `limit` characters (code points, as Postgres counts them) on a grapheme
 * boundary: never half a surrogate pair, never a letter without its combining accents or an emoji
 * without its modifiers.
 */
export function truncateText(text: string, limit: number): string {
  // Fewer UTF-16 units than the limit: fewer code points too, nothing to cut.
  if (text.length <= limit) return text;
  let kept = '';
  let codePoints = 0;
  for (const { segment } of graphemes.segment(text)) {
    const size = [...segment].length;
    if (codePoints + size > limit) break;
    kept += segment;
    codePoints += size;
  }
  return kept;
}

function cleanName(name: string | null): string | null {
  if (name === null) return null;
  const cleaned = truncateText(cleanText(name), SUBSCRIBER_TEXT_LIMITS.name);
  return cleaned === '' && name !== '' ? null : cleaned;
}

function validDate(date: Date | null): Date | null {
  return date !== null && Number.isFinite(date.getTime()) ? date : null;
}

/** Code points in `text`, without building an array when the UTF-16 length already tells. */
function exceedsCodePoints(text: string, limit: number): boolean {
  return text.length > limit && [...text].length > limit;
}

/** Whether `value` holds a string or key cleanText would change, checked without copying. */
function jsonNeedsCleaning(value: unknown): boolean {
  if (typeof value === 'string') return NEEDS_CLEANING.test(value);
  if (Array.isArray(value)) return value.some(jsonNeedsCleaning);
  if (value !== null && typeof value === 'object') {
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      if (NEEDS_CLEANING.test(key)) return true;
      if (jsonNeedsCleaning((value as Record<string, unknown>)[key])) return true;
    }
  }
  return false;
}

/**
 * Metadata jsonb accepts: every string and key cleaned, recursively. Metadata that needs nothing
 * (nearly all of it) is returned as it is: copying every object of every subscriber was the
 * sync's largest allocation after the page itself.
 */
function cleanJson(value: unknown, json?: string): unknown {
  // One test of the text the caller already made is far cheaper than walking every key and
  // string of a large record (Mailchimp's members: two dozen each).
  if (json !== undefined && !JSON_TEXT_MAY_NEED_CLEANING.test(json)) return value;
  return jsonNeedsCleaning(value) ? copyCleaned(value) : value;
}

function copyCleaned(value: unknown): unknown {
  if (typeof value === 'string') return cleanText(value);
  if (Array.isArray(value)) return value.map(copyCleaned);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([key, inner]) => [
        cleanText(key),
        copyCleaned(inner),
      ]),
    );
  }
  return value;
}

/**
 * An address we can store, hash and mask: trimmed, at most 320 characters, no control character
 * or whitespace, a non-empty local part (with an `@` only if quoted) and domain around the last
 * `@`. Deliberately lenient
 * beyond that (plus-addresses, quotes, Unicode): the ESP accepted it for mailing.
 */
export function isStorableEmail(email: string): boolean {
  if (email.length === 0 || exceedsCodePoints(email, SUBSCRIBER_TEXT_LIMITS.email)) return false;
  if (ANY_CONTROL.test(email) || HAS_LONE_SURROGATE.test(email) || /\s/.test(email)) return false;
  const at = email.lastIndexOf('@');
  if (at <= 0 || at === email.length - 1) return false;
  // An `@` inside the local part only within quotes ("a@b"@example.com).
  const local = email.slice(0, at);
  return !local.includes('@') || (local.length > 2 && local.startsWith('"') && local.endsWith('"'));
}

/**
 * An id we can store and find the subscriber by again: a non-empty string of at most 255
 * characters, no control character, no lone surrogate.
 */
export function isStorableExternalId(externalId: unknown): externalId is string {
  return (
    typeof externalId === 'string' &&
    externalId.length > 0 &&
    !ANY_CONTROL.test(externalId) &&
    !HAS_LONE_SURROGATE.test(externalId) &&
    !exceedsCodePoints(externalId, SUBSCRIBER_TEXT_LIMITS.externalId)
  );
}

/**
 * What one subscriber from an ESP becomes before it is stored. Values that would make Postgres
 * refuse the whole page are made storable (names cut at their column's length, control
 * characters dropped, impossible dates emptied, metadata cleaned); a row that cannot be stored
 * honestly (no usable address, an id we could not find it by again) is skipped with its reason.
 *
 * `metadataJson`, when the caller has it: `JSON.stringify(subscriber.metadata ?? {})`, which tells
 * at one glance whether the metadata needs cleaning at all.
 */
export function sanitizeSubscriber(
  subscriber: EspSubscriber,
  metadataJson?: string,
): SanitizedSubscriber {
  const externalId = subscriber.externalId;
  if (!isStorableExternalId(externalId)) {
    return { stored: false, reason: 'invalid-external-id', externalId: null };
  }
  const email = typeof subscriber.email === 'string' ? subscriber.email.trim() : '';
  if (!isStorableEmail(email)) return { stored: false, reason: 'malformed-email', externalId };
  // Every field spelt out: a spread of the vendor's object was a slow generic copy per row.
  return {
    stored: true,
    subscriber: {
      externalId,
      email,
      status: subscriber.status,
      firstName: cleanName(subscriber.firstName),
      lastName: cleanName(subscriber.lastName),
      subscribedAt: validDate(subscriber.subscribedAt),
      unsubscribedAt: validDate(subscriber.unsubscribedAt),
      metadata: cleanJson(subscriber.metadata ?? {}, metadataJson) as Record<string, unknown>,
    },
  };
}
