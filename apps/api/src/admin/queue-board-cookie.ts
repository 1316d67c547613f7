import { timingSafeEqual } from 'node:crypto';
import { EncryptionService } from '@subscribernest/shared';

/** Where Bull Board lives; its cookie is scoped to this path. */
export const QUEUE_BOARD_PATH = '/admin/queues';
/** The api's own route under the board's path (QueueBoardController), which the board leaves alone. */
export const QUEUE_BOARD_SESSION_PATH = `${QUEUE_BOARD_PATH}/session`;

/** True for a request to QUEUE_BOARD_SESSION_PATH (whatever query string it carries). */
export function isQueueBoardSessionRoute(request: { originalUrl?: string; url?: string }): boolean {
  const url = request.originalUrl ?? request.url ?? '';
  const path = url.split('?')[0].replace(/\/+$/, '');
  return path === QUEUE_BOARD_SESSION_PATH;
}
export const QUEUE_BOARD_COOKIE = 'sn_queue_board';
/** How long a board cookie works (the session behind it must stay live as well). */
export const QUEUE_BOARD_COOKIE_TTL_MS = 15 * 60 * 1000;

const SESSION_ID = /^[0-9a-f-]{36}$/;

function signature(encryption: EncryptionService, sessionId: string, expiresAt: number): string {
  return encryption.hmac(`queue-board:${sessionId}:${expiresAt}`);
}

/**
 * The board cookie's value: `<session id>.<expiry ms>.<HMAC>`. It is not the bearer token: it
 * only opens Bull Board, only until it expires, and only while its session is live (signing out
 * closes it too).
 */
export function signQueueBoardCookie(
  encryption: EncryptionService,
  sessionId: string,
  expiresAt: number,
): string {
  return `${sessionId}.${expiresAt}.${signature(encryption, sessionId, expiresAt)}`;
}

/** The session id a board cookie stands for, if it is authentic and unexpired. */
export function verifyQueueBoardCookie(
  encryption: EncryptionService,
  value: string,
  now = Date.now(),
): string | null {
  const [sessionId, expiry, mac, ...rest] = value.split('.');
  if (rest.length > 0 || !sessionId || !expiry || !mac || !SESSION_ID.test(sessionId)) return null;
  const expiresAt = Number(expiry);
  if (!/^\d{1,15}$/.test(expiry) || expiresAt <= now) return null;
  const expected = Buffer.from(signature(encryption, sessionId, expiresAt));
  const given = Buffer.from(mac);
  return given.length === expected.length && timingSafeEqual(given, expected) ? sessionId : null;
}

/** The value of cookie `name` in a `Cookie` header, if present. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const index = part.indexOf('=');
    if (index > 0 && part.slice(0, index).trim() === name) return part.slice(index + 1).trim();
  }
  return undefined;
}

/** `Set-Cookie` for the board: HttpOnly, SameSite=Strict, Path=/admin/queues, Secure on HTTPS. */
export function queueBoardSetCookie(value: string, maxAgeMs: number, secure: boolean): string {
  return [
    `${QUEUE_BOARD_COOKIE}=${value}`,
    `Path=${QUEUE_BOARD_PATH}`,
    `Max-Age=${Math.floor(maxAgeMs / 1000)}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}
