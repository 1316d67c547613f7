import type { EspType } from '../entities/esp-connection.entity';
import type { SubscriberStatus } from '../entities/subscriber.entity';
import type { EspSubscriber } from './esp-client';
import { ProtocolError } from './esp-errors';

/**
 * Readers for vendor JSON. A field the contract promises but the body lacks is a
 * `ProtocolError` naming the field (never its value: values can be personal data).
 */
export type Json = Record<string, unknown>;

const MODEL_KEYS: ReadonlySet<string> = new Set<keyof EspSubscriber>([
  'externalId',
  'email',
  'status',
  'firstName',
  'lastName',
  'subscribedAt',
  'unsubscribedAt',
  'metadata',
]);

export function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function readObject(espType: EspType, value: unknown, what: string): Json {
  if (!isJson(value)) throw new ProtocolError(espType, `${what} is not an object`);
  return value;
}

export function readArray(espType: EspType, value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new ProtocolError(espType, `${what} is not an array`);
  return value;
}

export function readString(espType: EspType, value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new ProtocolError(espType, `${what} is missing or not a string`);
  }
  return value;
}

export function readCount(espType: EspType, value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new ProtocolError(espType, `${what} is missing or not a count`);
  }
  return value;
}

/** A string id, or an integer one (Kit) as its decimal string. */
export function readId(espType: EspType, value: unknown, what: string): string {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return readString(espType, value, what);
}

/** A non-blank string, else null. */
export function optionalText(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

/** An ISO 8601 date; "" (Mailchimp's "unknown"), null or garbage are null. */
export function isoDate(value: unknown): Date | null {
  if (typeof value !== 'string' || value === '') return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? new Date(ms) : null;
}

/** Unix seconds (beehiiv `created`), as a number or a numeric string. */
export function unixSeconds(value: unknown): Date | null {
  const seconds = typeof value === 'string' && value !== '' ? Number(value) : value;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0
    ? new Date(seconds * 1000)
    : null;
}

/** Our status for a vendor status, or null: a status we do not sync (the record is skipped). */
export function mapStatus(
  espType: EspType,
  table: Readonly<Record<string, SubscriberStatus>>,
  value: unknown,
  what: string,
): SubscriberStatus | null {
  const vendor = readString(espType, value, what);
  return Object.hasOwn(table, vendor) ? (table[vendor] ?? null) : null;
}

/**
 * The record minus the fields the model took its values from, minus any key named like a model
 * field: the mapped values always win, metadata never shadows them.
 */
export function metadataOf(raw: Json, consumed: readonly string[]): Json {
  const metadata: Json = {};
  // for…in rather than Object.entries: no [key, value] pair allocated per field of every record.
  for (const key in raw) {
    if (Object.hasOwn(raw, key) && !MODEL_KEYS.has(key) && !consumed.includes(key)) {
      metadata[key] = raw[key];
    }
  }
  return metadata;
}
