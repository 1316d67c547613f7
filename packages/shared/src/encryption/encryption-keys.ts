/** Parsing of key material from configuration. Messages never include the key itself. */

export const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export interface NamedKey {
  id: string;
  key: Buffer;
}

/** Base64 of exactly 32 bytes. */
export function parseSecretKey(value: string): Buffer {
  const trimmed = value.trim();
  if (!BASE64.test(trimmed) || trimmed.length % 4 !== 0) {
    throw new Error('must be base64 (generate one with: openssl rand -base64 32)');
  }
  const key = Buffer.from(trimmed, 'base64');
  if (key.length !== KEY_BYTES) {
    throw new Error(`must decode to ${KEY_BYTES} bytes, got ${key.length}`);
  }
  return key;
}

/** `<key id>:<base64 of 32 bytes>`. */
export function parseNamedKey(value: string): NamedKey {
  const separator = value.indexOf(':');
  if (separator < 0) {
    throw new Error(
      'must look like <key id>:<base64 of 32 bytes>, e.g. k1:$(openssl rand -base64 32)',
    );
  }
  const id = value.slice(0, separator).trim();
  if (!KEY_ID.test(id)) {
    throw new Error('key id must be 1-32 letters, digits, _ or -');
  }
  try {
    return { id, key: parseSecretKey(value.slice(separator + 1)) };
  } catch (error) {
    throw new Error(`key "${id}" ${(error as Error).message}`);
  }
}

/** Comma-separated `<key id>:<base64>` entries; empty means none. Ids must be unique. */
export function parseKeyList(value: string): NamedKey[] {
  const keys = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
    .map(parseNamedKey);
  const seen = new Set<string>();
  for (const { id } of keys) {
    if (seen.has(id)) throw new Error(`lists key id "${id}" twice`);
    seen.add(id);
  }
  return keys;
}
