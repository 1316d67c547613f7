import { JOB, JobPayloads, QUEUE } from '@subscribernest/shared';
import { testRedisUrl } from '@subscribernest/testkit';
import Redis from 'ioredis';
import { DEFAULT_AUTH_POLICY } from '../src/auth/auth-policy';
import { hashSessionToken } from '../src/auth/session-token';
import { latestLoginCode, signIn, startTestApi, TestApi, wrongCode } from './support/test-api';

let counter = 0;
/** A fresh address per test, so the per-address limit never carries over. */
const newEmail = () => `user${++counter}.${Date.now()}@example.com`;

describe('auth (real app, Postgres and Redis)', () => {
  let api: TestApi;

  beforeAll(async () => {
    // Many requests come from one test IP: lift only the per-IP limit (auth-throttling tests it).
    api = await startTestApi({
      authPolicy: { requestsPerIp: { limit: 10_000, windowMs: 60_000 } },
    });
  });

  afterAll(async () => {
    await api?.close();
  });

  it('leaves no personal data in any job of any queue, in clear or encrypted', async () => {
    const email = newEmail();
    const userAgent = 'pii-scan-browser/7.3';
    await api
      .http()
      .post('/auth/send-code')
      .set('user-agent', userAgent)
      .send({ email })
      .expect(200);
    const { code } = await latestLoginCode(api, email);
    await api
      .http()
      .post('/auth/verify-code')
      .set('user-agent', userAgent)
      .send({ email, code })
      .expect(200);

    const redis = new Redis(testRedisUrl());
    try {
      const keys = await redis.keys(`${api.env.QUEUE_PREFIX}:*`);
      const payloads: string[] = [];
      for (const key of keys) {
        if ((await redis.type(key)) !== 'hash') continue;
        const data = await redis.hget(key, 'data');
        if (data !== null) payloads.push(data);
      }
      expect(payloads.length).toBeGreaterThanOrEqual(2);
      const everything = payloads.join('\n');
      expect(everything).not.toContain(email);
      expect(everything).not.toContain(userAgent);
      expect(everything).not.toMatch(/127\.0\.0\.1|::1|::ffff:/);
      expect(everything).not.toMatch(/"v1\./);
      for (const payload of payloads) {
        expect(payload).not.toMatch(new RegExp(`(?<!\\d)${code}(?!\\d)`));
      }
    } finally {
      redis.disconnect();
    }
  });

  describe('POST /auth/send-code', () => {
    it('answers {success: true} and queues a login-code job that carries the row id only', async () => {
      const email = newEmail();
      const response = await api.http().post('/auth/send-code').send({ email }).expect(200);
      expect(response.body).toEqual({ success: true });

      const { loginCodeId, job, code } = await latestLoginCode(api, email);
      expect(job.id).toBe(loginCodeId);
      expect(job.name).toBe(JOB.loginCode);
      expect(job.queueName).toBe(QUEUE.email);
      expect(code).toMatch(/^\d{6}$/);
      const data: JobPayloads['login-code'] = job.data;
      expect(data).toEqual({ loginCodeId });
      expect(job.opts.attempts).toBe(5);

      // What Redis holds has neither the address nor the code, in plaintext or encrypted.
      const redis = new Redis(testRedisUrl());
      try {
        const raw = JSON.stringify(await redis.hgetall(`${api.env.QUEUE_PREFIX}:email:${job.id}`));
        expect(raw).toContain(loginCodeId);
        expect(raw).not.toContain(email);
        expect(raw).not.toContain(code);
        expect(raw).not.toMatch(/v1\./);
      } finally {
        redis.disconnect();
      }
    });

    it('keeps the code for the worker encrypted next to its keyed hash, never in clear', async () => {
      const email = newEmail();
      await api.http().post('/auth/send-code').send({ email }).expect(200);
      const { loginCodeId, code } = await latestLoginCode(api, email);
      const [row] = await api.dataSource.query(
        `SELECT code_hash, code_encrypted, expires_at, failed_attempts, consumed_at, requested_ip
           FROM login_codes WHERE id = $1`,
        [loginCodeId],
      );
      expect(row.code_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(row.code_hash).not.toContain(code);
      expect(row.code_encrypted).toMatch(/^v1\./);
      expect(row.code_encrypted).not.toContain(code);
      expect(row).toMatchObject({ failed_attempts: 0, consumed_at: null });
      expect(row.requested_ip).toEqual(expect.any(String));
      const ttl = new Date(row.expires_at).getTime() - Date.now();
      expect(ttl).toBeGreaterThan(9 * 60_000);
      expect(ttl).toBeLessThanOrEqual(10 * 60_000);
    });

    it('keeps exactly one code to send when requests race, the newest, and it signs in', async () => {
      const email = newEmail();
      const answers = await Promise.all(
        Array.from({ length: 4 }, () => api.http().post('/auth/send-code').send({ email })),
      );
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
      const rows = await api.dataSource.query<{ id: string; waiting: boolean }[]>(
        `SELECT id, code_encrypted IS NOT NULL AS waiting FROM login_codes
          WHERE email = $1 ORDER BY created_at DESC`,
        [email],
      );
      expect(rows).toHaveLength(4);
      expect(rows.map((row) => row.waiting)).toEqual([true, false, false, false]);
      const { loginCodeId, code } = await latestLoginCode(api, email);
      expect(loginCodeId).toBe(rows[0].id);
      await api.http().post('/auth/verify-code').send({ email, code }).expect(200);
    });

    it('drops the code it no longer needs: superseded by a newer code, used, or locked', async () => {
      const ciphertext = async (id: string) =>
        (
          await api.dataSource.query<{ code_encrypted: string | null }[]>(
            'SELECT code_encrypted FROM login_codes WHERE id = $1',
            [id],
          )
        )[0].code_encrypted;

      const email = newEmail();
      await api.http().post('/auth/send-code').send({ email }).expect(200);
      const first = await latestLoginCode(api, email);
      await api.http().post('/auth/send-code').send({ email }).expect(200);
      const second = await latestLoginCode(api, email);
      expect(await ciphertext(first.loginCodeId)).toBeNull();
      expect(await ciphertext(second.loginCodeId)).not.toBeNull();
      await api.http().post('/auth/verify-code').send({ email, code: second.code }).expect(200);
      expect(await ciphertext(second.loginCodeId)).toBeNull();

      const locked = newEmail();
      await api.http().post('/auth/send-code').send({ email: locked }).expect(200);
      const issued = await latestLoginCode(api, locked);
      for (let attempt = 0; attempt < DEFAULT_AUTH_POLICY.maxCodeAttempts; attempt += 1) {
        await api
          .http()
          .post('/auth/verify-code')
          .send({ email: locked, code: wrongCode(issued.code) })
          .expect(401);
      }
      expect(await ciphertext(issued.loginCodeId)).toBeNull();
    });

    it('answers the same for an existing account, and normalises the address', async () => {
      const email = newEmail();
      await signIn(api, email);
      const response = await api
        .http()
        .post('/auth/send-code')
        .send({ email: `  ${email.toUpperCase()} ` })
        .expect(200);
      expect(response.body).toEqual({ success: true });
      const { loginCodeId } = await latestLoginCode(api, email);
      const [row] = await api.dataSource.query('SELECT email FROM login_codes WHERE id = $1', [
        loginCodeId,
      ]);
      expect(row.email).toBe(email);
    });

    it.each([
      ['a missing email', {}, 'email must be an email'],
      ['a malformed email', { email: 'not-an-address' }, 'email must be an email'],
      ['a non-string email', { email: 42 }, 'email must be a string'],
      [
        'an unknown field',
        { email: 'a@example.com', admin: true },
        'property admin should not exist',
      ],
    ])('answers 400 for %s, naming the field', async (_case, body, message) => {
      const response = await api.http().post('/auth/send-code').send(body).expect(400);
      expect(response.body.statusCode).toBe(400);
      expect(response.body.message).toContain(message);
    });

    it('answers 400 for malformed JSON without echoing it', async () => {
      const response = await api
        .http()
        .post('/auth/send-code')
        .set('content-type', 'application/json')
        .send('{"email": "leak@example.com",')
        .expect(400);
      expect(response.body).toEqual({
        statusCode: 400,
        message: 'Malformed JSON in request body',
        error: 'Bad Request',
      });
    });

    it('limits codes per address (429 with Retry-After), whatever the case of the address', async () => {
      const email = newEmail();
      for (let i = 0; i < 5; i++) {
        await api
          .http()
          .post('/auth/send-code')
          .send({ email: i % 2 ? email.toUpperCase() : email })
          .expect(200);
      }
      const limited = await api.http().post('/auth/send-code').send({ email }).expect(429);
      const retryAfter = Number(limited.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(14 * 60);
      expect(retryAfter).toBeLessThanOrEqual(15 * 60);
      expect(limited.body.message).toMatch(/too many sign-in codes/i);
      const [{ count }] = await api.dataSource.query(
        'SELECT count(*)::int AS count FROM login_codes WHERE email = $1',
        [email],
      );
      expect(count).toBe(5);

      // Once the oldest codes leave the window, sending works again.
      await api.dataSource.query(
        `UPDATE login_codes SET created_at = now() - interval '16 minutes' WHERE email = $1`,
        [email],
      );
      await api.http().post('/auth/send-code').send({ email }).expect(200);
    });

    it('holds the per-address limit when requests race', async () => {
      const email = newEmail();
      const statuses = await Promise.all(
        Array.from({ length: 8 }, () =>
          api
            .http()
            .post('/auth/send-code')
            .send({ email })
            .then((response) => response.status),
        ),
      );
      expect(statuses.filter((status) => status === 200)).toHaveLength(5);
      expect(statuses.filter((status) => status === 429)).toHaveLength(3);
    });
  });

  describe('POST /auth/verify-code', () => {
    it('creates the account on first sign-in, returns a working token, and queues a sign-in notice', async () => {
      const email = newEmail();
      await api.http().post('/auth/send-code').send({ email }).expect(200);
      const { code } = await latestLoginCode(api, email);

      const response = await api
        .http()
        .post('/auth/verify-code')
        .set('user-agent', 'e2e-browser/1.0')
        .send({ email, code })
        .expect(200);
      const { token, user } = response.body;
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(user).toEqual({
        id: expect.any(String),
        email,
        isOnboarded: false,
        deleteRequestedAt: null,
      });

      const [session] = await api.dataSource.query(
        'SELECT id, user_id, token_hash, expires_at, revoked_at, user_agent FROM sessions WHERE user_id = $1',
        [user.id],
      );
      expect(session.token_hash).toBe(hashSessionToken(token));
      expect(session.token_hash).not.toBe(token);
      expect(session.revoked_at).toBeNull();
      expect(session.user_agent).toBe('e2e-browser/1.0');
      const days = (new Date(session.expires_at).getTime() - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(29.9);
      expect(days).toBeLessThanOrEqual(30);

      const notice = await api.emailQueue.getJob(session.id);
      expect(notice?.name).toBe(JOB.signInNotification);
      const data = notice!.data as JobPayloads['sign-in-notification'];
      // Ids only: the worker reads the address, time, IP and browser from Postgres.
      expect(data).toEqual({ userId: user.id, sessionId: session.id });

      const me = await api
        .http()
        .get('/auth/me')
        .set('authorization', `Bearer ${token}`)
        .expect(200);
      expect(me.body).toEqual({ user });
    });

    it('signs the same account in again, whatever the case of the address', async () => {
      const email = newEmail();
      const first = await signIn(api, email);
      const second = await signIn(api, email.toUpperCase());
      expect(second.user.id).toBe(first.user.id);
      expect(second.token).not.toBe(first.token);
      const [{ count }] = await api.dataSource.query(
        'SELECT count(*)::int AS count FROM users WHERE lower(email) = $1',
        [email],
      );
      expect(count).toBe(1);
    });

    it('answers 401 for a wrong code, and only the newest code works', async () => {
      const email = newEmail();
      await api.http().post('/auth/send-code').send({ email }).expect(200);
      const older = await latestLoginCode(api, email);
      await api.http().post('/auth/send-code').send({ email }).expect(200);
      const newest = await latestLoginCode(api, email);

      const wrong = await api
        .http()
        .post('/auth/verify-code')
        .send({ email, code: wrongCode(newest.code) })
        .expect(401);
      expect(wrong.body).toMatchObject({ statusCode: 401, message: 'Invalid or expired code' });
      if (older.code !== newest.code) {
        await api.http().post('/auth/verify-code').send({ email, code: older.code }).expect(401);
      }
      await api.http().post('/auth/verify-code').send({ email, code: newest.code }).expect(200);
    });

    it('answers 401 for an address that never asked for a code', async () => {
      await api
        .http()
        .post('/auth/verify-code')
        .send({ email: newEmail(), code: '123456' })
        .expect(401);
    });

    it('locks a code after 5 wrong attempts, even against the right code', async () => {
      const email = newEmail();
      await api.http().post('/auth/send-code').send({ email }).expect(200);
      const { loginCodeId, code } = await latestLoginCode(api, email);
      for (let i = 0; i < 5; i++) {
        await api
          .http()
          .post('/auth/verify-code')
          .send({ email, code: wrongCode(code) })
          .expect(401);
      }
      await api.http().post('/auth/verify-code').send({ email, code }).expect(401);
      const [row] = await api.dataSource.query(
        'SELECT failed_attempts, consumed_at FROM login_codes WHERE id = $1',
        [loginCodeId],
      );
      expect(row).toEqual({ failed_attempts: 5, consumed_at: null });

      // A new code works again.
      await api.http().post('/auth/send-code').send({ email }).expect(200);
      const fresh = await latestLoginCode(api, email);
      await api.http().post('/auth/verify-code').send({ email, code: fresh.code }).expect(200);
    });

    it('accepts the right code after fewer than 5 wrong attempts', async () => {
      const email = newEmail();
      await api.http().post('/auth/send-code').send({ email }).expect(200);
      const { code } = await latestLoginCode(api, email);
      for (let i = 0; i < 4; i++) {
        await api
          .http()
          .post('/auth/verify-code')
          .send({ email, code: wrongCode(code) })
          .expect(401);
      }
      await api.http().post('/auth/verify-code').send({ email, code }).expect(200);
    });

    it('answers 401 for an expired code', async () => {
      const email = newEmail();
      await api.http().post('/auth/send-code').send({ email }).expect(200);
      const { loginCodeId, code } = await latestLoginCode(api, email);
      await api.dataSource.query(
        `UPDATE login_codes SET expires_at = now() - interval '1 second' WHERE id = $1`,
        [loginCodeId],
      );
      await api.http().post('/auth/verify-code').send({ email, code }).expect(401);
    });

    it('answers 401 when a code is used twice, including concurrently', async () => {
      const email = newEmail();
      await api.http().post('/auth/send-code').send({ email }).expect(200);
      const { code } = await latestLoginCode(api, email);
      const statuses = await Promise.all(
        Array.from({ length: 5 }, () =>
          api
            .http()
            .post('/auth/verify-code')
            .send({ email, code })
            .then((response) => response.status),
        ),
      );
      expect(statuses.filter((status) => status === 200)).toHaveLength(1);
      expect(statuses.filter((status) => status === 401)).toHaveLength(4);
      await api.http().post('/auth/verify-code').send({ email, code }).expect(401);
    });

    it.each([
      ['a code of letters', { email: 'a@example.com', code: 'abcdef' }, 'code must be 6 digits'],
      ['a short code', { email: 'a@example.com', code: '12345' }, 'code must be 6 digits'],
      ['a numeric code', { email: 'a@example.com', code: 123456 }, 'code must be a string'],
      ['a missing email', { code: '123456' }, 'email must be an email'],
      [
        'an unknown field',
        { email: 'a@example.com', code: '123456', role: 'admin' },
        'property role should not exist',
      ],
    ])('answers 400 for %s', async (_case, body, message) => {
      const response = await api.http().post('/auth/verify-code').send(body).expect(400);
      expect(response.body.message).toContain(message);
    });
  });

  describe('sessions', () => {
    it.each([
      ['no Authorization header', undefined],
      ['a non-Bearer scheme', 'Basic dXNlcjpwYXNz'],
      ['a malformed token', 'Bearer not-a-token'],
      ['an unknown token', `Bearer ${'A'.repeat(43)}`],
    ])('GET /auth/me answers 401 with %s', async (_case, header) => {
      const call = api.http().get('/auth/me');
      if (header) void call.set('authorization', header);
      const response = await call.expect(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
      expect(response.body.statusCode).toBe(401);
    });

    it('POST /auth/logout revokes the session: the token stops working, others do not', async () => {
      const email = newEmail();
      const kept = await signIn(api, email);
      const { token } = await signIn(api, email);
      const auth = `Bearer ${token}`;
      await api.http().get('/auth/me').set('authorization', auth).expect(200);

      const response = await api.http().post('/auth/logout').set('authorization', auth).expect(200);
      expect(response.body).toEqual({ success: true });
      await api.http().get('/auth/me').set('authorization', auth).expect(401);
      await api.http().post('/auth/logout').set('authorization', auth).expect(401);
      const [row] = await api.dataSource.query(
        'SELECT revoked_at FROM sessions WHERE token_hash = $1',
        [hashSessionToken(token)],
      );
      expect(row.revoked_at).toBeInstanceOf(Date);

      await api.http().get('/auth/me').set('authorization', `Bearer ${kept.token}`).expect(200);
    });

    it("POST /auth/logout-all revokes every session of the user, and no one else's", async () => {
      const email = newEmail();
      const sessions = [
        await signIn(api, email),
        await signIn(api, email),
        await signIn(api, email),
      ];
      const other = await signIn(api, newEmail());
      const [current] = sessions;
      const response = await api
        .http()
        .post('/auth/logout-all')
        .set('authorization', `Bearer ${current.token}`)
        .expect(200);
      expect(response.body).toEqual({ success: true, revokedSessions: 3 });
      for (const { token } of sessions) {
        await api.http().get('/auth/me').set('authorization', `Bearer ${token}`).expect(401);
      }
      await api.http().get('/auth/me').set('authorization', `Bearer ${other.token}`).expect(200);
      await api.http().post('/auth/logout-all').expect(401);
    });

    it('an expired session answers 401', async () => {
      const { token } = await signIn(api, newEmail());
      await api.dataSource.query(
        `UPDATE sessions SET expires_at = now() - interval '1 second' WHERE token_hash = $1`,
        [hashSessionToken(token)],
      );
      await api.http().get('/auth/me').set('authorization', `Bearer ${token}`).expect(401);
    });

    it('logout and complete-onboarding answer 401 without a session', async () => {
      await api.http().post('/auth/logout').expect(401);
      await api.http().post('/auth/complete-onboarding').expect(401);
    });
  });

  describe('POST /auth/complete-onboarding', () => {
    it('marks the user onboarded, idempotently', async () => {
      const { token, user } = await signIn(api, newEmail());
      const auth = `Bearer ${token}`;
      for (let i = 0; i < 2; i++) {
        const response = await api
          .http()
          .post('/auth/complete-onboarding')
          .set('authorization', auth)
          .expect(200);
        expect(response.body).toEqual({ success: true, user: { ...user, isOnboarded: true } });
      }
      const me = await api.http().get('/auth/me').set('authorization', auth).expect(200);
      expect(me.body.user.isOnboarded).toBe(true);
    });

    it('answers 400 for a malformed JSON body, even on a route that reads none', async () => {
      const { token } = await signIn(api, newEmail());
      await api
        .http()
        .post('/auth/complete-onboarding')
        .set('authorization', `Bearer ${token}`)
        .set('content-type', 'application/json')
        .send('{not json')
        .expect(400);
    });

    it('reports a pending deletion request', async () => {
      const { token, user } = await signIn(api, newEmail());
      await api.dataSource.query(
        `UPDATE users SET delete_requested_at = '2030-01-02T03:04:05Z' WHERE id = $1`,
        [user.id],
      );
      const me = await api
        .http()
        .get('/auth/me')
        .set('authorization', `Bearer ${token}`)
        .expect(200);
      expect(me.body.user.deleteRequestedAt).toBe('2030-01-02T03:04:05.000Z');
    });
  });
});
