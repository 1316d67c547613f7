import { BadRequestException } from '@nestjs/common';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const VERSION = 1;

/**
 * The opaque `cursor` of the subscriber lists: base64url JSON of `[version, ...keys]`, where the
 * keys are the UUIDs of the last row answered in keyset order (its id for one connection's
 * list; its connection id and id across a user's connections). Clients must not build one;
 * they pass back the `nextCursor` they were given.
 */
export function encodeSubscriberCursor(keys: string[]): string {
  return Buffer.from(JSON.stringify([VERSION, ...keys]), 'utf8').toString('base64url');
}

/**
 * The keys of a cursor made by `encodeSubscriberCursor` with `arity` keys, or a 400 naming the
 * parameter when it was not one (truncated, edited, or from the other list).
 */
export function decodeSubscriberCursor(cursor: string, arity: number): string[] {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  if (
    !Array.isArray(decoded) ||
    decoded.length !== arity + 1 ||
    decoded[0] !== VERSION ||
    !decoded.slice(1).every((key) => typeof key === 'string' && UUID.test(key))
  ) {
    throw invalidCursor();
  }
  return decoded.slice(1) as string[];
}

export function invalidCursor(): BadRequestException {
  return new BadRequestException({
    statusCode: 400,
    message: ['cursor is not a cursor this list gave out (pass back nextCursor unchanged)'],
    error: 'Bad Request',
    fields: {
      cursor: ['cursor is not a cursor this list gave out (pass back nextCursor unchanged)'],
    },
  });
}
