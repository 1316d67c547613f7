import { randomBytes, randomUUID } from 'node:crypto';
import { EncryptionService } from '@subscribernest/shared';
import {
  queueBoardSetCookie,
  readCookie,
  signQueueBoardCookie,
  verifyQueueBoardCookie,
} from './queue-board-cookie';

const settings = () => ({
  ENCRYPTION_KEY: `k1:${randomBytes(32).toString('base64')}`,
  HMAC_KEY: randomBytes(32).toString('base64'),
});

describe('queue board cookie', () => {
  const encryption = EncryptionService.fromSettings(settings());
  const sessionId = randomUUID();
  const now = 1_700_000_000_000;

  it('stands for its session until it expires', () => {
    const value = signQueueBoardCookie(encryption, sessionId, now + 60_000);
    expect(verifyQueueBoardCookie(encryption, value, now)).toBe(sessionId);
    expect(verifyQueueBoardCookie(encryption, value, now + 60_000)).toBeNull();
  });

  it('rejects tampered, foreign and malformed values', () => {
    const value = signQueueBoardCookie(encryption, sessionId, now + 60_000);
    const [id, expiry, mac] = value.split('.');
    const other = EncryptionService.fromSettings(settings());
    for (const bad of [
      `${randomUUID()}.${expiry}.${mac}`,
      `${id}.${now + 120_000}.${mac}`,
      `${id}.${expiry}.${mac.replace(/.$/, (c) => (c === '0' ? '1' : '0'))}`,
      `${id}.${expiry}.${mac}.x`,
      signQueueBoardCookie(other, sessionId, now + 60_000),
      '',
      'garbage',
    ]) {
      expect(verifyQueueBoardCookie(encryption, bad, now)).toBeNull();
    }
  });

  it('reads one cookie from a Cookie header', () => {
    expect(readCookie('a=1; sn_queue_board=x.y.z; b=2', 'sn_queue_board')).toBe('x.y.z');
    expect(readCookie('a=1', 'sn_queue_board')).toBeUndefined();
    expect(readCookie(undefined, 'sn_queue_board')).toBeUndefined();
  });

  it('is HttpOnly, SameSite=Strict and scoped to /admin/queues', () => {
    expect(queueBoardSetCookie('v', 900_000, false)).toBe(
      'sn_queue_board=v; Path=/admin/queues; Max-Age=900; HttpOnly; SameSite=Strict',
    );
    expect(queueBoardSetCookie('v', 900_000, true)).toMatch(/; Secure$/);
  });
});
