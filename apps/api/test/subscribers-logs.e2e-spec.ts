import { resolve } from 'node:path';
import { dataSourceOptions, EncryptionService, runMigrations } from '@subscribernest/shared';
import {
  createTestDatabase,
  createTestQueuePrefix,
  freePort,
  serviceEnv,
  startService,
  TestDatabase,
  TestQueuePrefix,
} from '@subscribernest/testkit';
import { DataSource } from 'typeorm';
import { hashSessionToken, newSessionToken } from '../src/auth/session-token';
import { insertConnection, insertSubscribers } from './support/subscriber-factory';
import { TestApi } from './support/test-api';

const ENTRY = resolve(__dirname, '../dist/main.js');
const CWD = resolve(__dirname);

/**
 * The built api as a process at the most verbose log level, through every subscriber route:
 * unmasking is logged as an audit event naming user, subscriber and connection, and no line
 * ever holds an address in clear.
 */
describe('subscriber logs (api process)', () => {
  let database: TestDatabase;
  let queues: TestQueuePrefix;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase({ setup: runMigrations });
    queues = createTestQueuePrefix();
    dataSource = await new DataSource(dataSourceOptions(database.url)).initialize();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
    await queues?.cleanup();
  });

  it('audits an unmask without the address and never logs one', async () => {
    const port = await freePort();
    const env = serviceEnv({
      databaseUrl: database.url,
      queuePrefix: queues.prefix,
      extra: { PORT: String(port), LOG_LEVEL: 'trace' },
    });
    const encryption = EncryptionService.fromSettings({
      ENCRYPTION_KEY: env.ENCRYPTION_KEY,
      HMAC_KEY: env.HMAC_KEY,
    });
    // The factory only needs these two of a TestApi.
    const seeder = { dataSource, encryption } as unknown as TestApi;
    const [user] = await dataSource.query<{ id: string }[]>(
      `INSERT INTO users (email) VALUES ('owner@example.com') RETURNING id`,
    );
    const token = newSessionToken();
    await dataSource.query(
      `INSERT INTO sessions (user_id, token_hash, expires_at)
       VALUES ($1, $2, now() + interval '1 day')`,
      [user.id, hashSessionToken(token)],
    );
    const connectionId = await insertConnection(seeder, user.id, { publicationName: 'Audit' });
    const email = 'Very.Secret.Reader@Hidden-Domain.org';
    const [subscriberId] = await insertSubscribers(seeder, connectionId, [
      { email, firstName: 'Very', lastName: 'Secret' },
      { email: 'second.secret@hidden-domain.org' },
    ]);

    const api = await startService({
      entry: ENTRY,
      cwd: CWD,
      env,
      readyUrl: `http://127.0.0.1:${port}/health`,
    });
    const call = async (method: string, path: string) => {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}` },
      });
      return { status: response.status, text: await response.text() };
    };
    try {
      const unmasked = await call('POST', `/subscribers/${subscriberId}/unmask`);
      expect(unmasked).toEqual({ status: 200, text: JSON.stringify({ email }) });
      for (const path of [
        `/esp-connections/${connectionId}/subscribers`,
        `/esp-connections/${connectionId}/subscriber-stats`,
        `/esp-connections/${connectionId}/subscribers/export?format=csv`,
        `/esp-connections/${connectionId}/subscribers/export?format=json`,
        `/esp-connections/${connectionId}/subscribers/export?format=xlsx`,
        '/dashboard/stats',
        '/dashboard/subscribers',
      ]) {
        expect([path, (await call('GET', path)).status]).toEqual([path, 200]);
      }
    } finally {
      expect(await api.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    }

    const output = api.output();
    const lines = api.logLines();
    const audit = lines.filter((line) => line.audit === 'subscriber.unmask');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      userId: user.id,
      subscriberId,
      espConnectionId: connectionId,
      msg: 'Subscriber email unmasked',
    });
    expect(lines.filter((line) => line.audit === 'subscribers.export')).toHaveLength(3);
    const lower = output.toLowerCase();
    expect(lower).not.toContain('very.secret');
    expect(lower).not.toContain('second.secret');
    expect(lower).not.toContain('hidden-domain');
    expect(output).not.toContain(token);
  });
});
