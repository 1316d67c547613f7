import type { EspType } from '../entities/esp-connection.entity';
import { InvalidCursorError } from './esp-errors';

const VERSION = 'v1';

export type CursorState = Record<string, string | number>;

/**
 * Our resumable cursor: `<esp>.v1.<base64url JSON>`. It wraps whatever the vendor needs to go on
 * (a beehiiv cursor, a Kit end_cursor, a Mailchimp offset) plus the list it belongs to, so a
 * cursor saved by one version, ESP or list is recognised as such and never silently misapplied.
 */
export function encodeCursor(espType: EspType, state: CursorState): string {
  return `${espType}.${VERSION}.${Buffer.from(JSON.stringify(state), 'utf8').toString('base64url')}`;
}

/**
 * Reads a cursor written by `encodeCursor`; `read` checks the shape and returns null when it is
 * wrong. Anything else is an `InvalidCursorError` (the caller restarts from the beginning).
 */
export function decodeCursor<T>(
  espType: EspType,
  cursor: string,
  read: (state: Record<string, unknown>) => T | null,
): T {
  const [esp, version, payload, ...rest] = cursor.split('.');
  if (rest.length > 0 || payload === undefined || esp !== espType) {
    throw new InvalidCursorError(espType, 'the cursor was not written by this ESP client');
  }
  if (version !== VERSION) {
    throw new InvalidCursorError(espType, `unsupported cursor version "${version}"`);
  }
  let state: unknown;
  try {
    state = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    state = null;
  }
  const value =
    typeof state === 'object' && state !== null && !Array.isArray(state)
      ? read(state as Record<string, unknown>)
      : null;
  if (value === null) throw new InvalidCursorError(espType, 'the cursor is malformed');
  return value;
}
