import { createHash, randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { EncryptionService, EspType, runMigrations } from '@subscribernest/shared';
import {
  createTestDatabase,
  createTestQueuePrefix,
  FakeAccountSpec,
  FakeEspServer,
  FakeRateLimits,
  freePort,
  serviceEnv,
  ServiceProcess,
  startService,
  TestDatabase,
  TestQueuePrefix,
  testSecrets,
  waitFor,
} from '@subscribernest/testkit';
import { DataSource } from 'typeorm';

const WORKER_ENTRY = resolve(__dirname, '../dist/main.js');
const API_ENTRY = resolve(__dirname, '../../api/dist/main.js');
const CWD = resolve(__dirname, '..');

/**
 * The vendors' limits, enforced by the fake with 429s, with windows shortened so the test takes
 * seconds (the budgets' algorithms do not depend on the window's length). Mailchimp keeps its
 * documented 10 in flight.
 */
const LIMITS: FakeRateLimits = {
  beehiiv: { requests: 30, windowMs: 1_000 },
  kit: { apiKeyRequests: 12, oauthRequests: 60, windowMs: 1_000 },
  mailchimp: { inFlight: 10 },
};
/** What the services are told: Kit's numbers (beehiiv's come from its own headers). */
const BUDGET_ENV = {
  ESP_BUDGET_BEEHIIV_WINDOW_MS: '1000',
  ESP_BUDGET_KIT_API_KEY_REQUESTS: '12',
  ESP_BUDGET_KIT_WINDOW_MS: '1000',
  ESP_BUDGET_MAILCHIMP_IN_FLIGHT: '10',
};
const KEYS: Record<EspType, string> = {
  beehiiv: 'bh-budget-e2e-key',
  kit: 'kit-budget-e2e-key',
  mailchimp: 'mc-budget-e2e-key-us2',
};
/**
 * Two lists of one account (Kit: an account is one list, so two owners connect the same
 * account). Storing rows is what takes a sync's time here, not the ESP: 50,000 subscribers per
 * vendor through the same budgets are pulled in esp-rate-budgets.int-spec.ts (packages/shared).
 */
const LISTS: Record<EspType, [string, string]> = {
  beehiiv: ['pub_budget_a', 'pub_budget_b'],
  kit: ['777001', '777001'],
  mailchimp: ['mc_budget_a', 'mc_budget_b'],
};
const LIST_SIZE = 3_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Owner {
  token: string;
  connectionId: string;
}

/**
 * Built api and two built workers against a fake that answers 429 past each vendor's limit: for
 * each vendor, two syncs of two lists of one account run at once, one in each worker process,
 * while owners ask the api for live counts and list look-ups on the same key. Not one request is
 * refused: the budgets in Redis are shared by all three processes.
 */
describe('ESP request budgets across processes (api + two workers)', () => {
  let database: TestDatabase;
  let queues: TestQueuePrefix;
  let fake: FakeEspServer;
  let dataSource: DataSource;
  let encryption: EncryptionService;
  const processes: ServiceProcess[] = [];
  const metricsUrls: string[] = [];
  let apiUrl: string;
  let users = 0;

  beforeAll(async () => {
    database = await createTestDatabase({ setup: runMigrations });
    queues = createTestQueuePrefix();
    const accounts: FakeAccountSpec[] = [
      {
        esp: 'beehiiv',
        apiKey: KEYS.beehiiv,
        lists: LISTS.beehiiv.map((id) => ({ id, name: id, size: LIST_SIZE })),
      },
      {
        esp: 'kit',
        apiKey: KEYS.kit,
        lists: [{ id: LISTS.kit[0], name: 'Kit account', size: LIST_SIZE }],
      },
      {
        esp: 'mailchimp',
        apiKey: KEYS.mailchimp,
        // Slow answers keep requests in flight long enough for the api's burst to pile up.
        lists: LISTS.mailchimp.map((id) => ({
          id,
          name: id,
          size: LIST_SIZE,
          faults: { latencyMs: 40 },
        })),
      },
    ];
    fake = await FakeEspServer.start({ accounts, rateLimits: LIMITS });
    dataSource = new DataSource({ type: 'postgres', url: database.url });
    await dataSource.initialize();
    const secrets = testSecrets();
    encryption = EncryptionService.fromSettings(secrets);
    const common = {
      ...secrets,
      ...BUDGET_ENV,
      BEEHIIV_API_URL: fake.baseUrls.beehiiv,
      KIT_API_URL: fake.baseUrls.kit,
      MAILCHIMP_API_URL: fake.baseUrls.mailchimp,
      // One sync per worker: the two syncs of an account run in two processes.
      SYNC_CONCURRENCY: '1',
    };
    const env = (extra: Record<string, string>) =>
      serviceEnv({
        databaseUrl: database.url,
        queuePrefix: queues.prefix,
        extra: { ...common, ...extra },
      });
    for (let i = 0; i < 2; i++) {
      const opsPort = await freePort();
      processes.push(
        await startService({
          entry: WORKER_ENTRY,
          cwd: CWD,
          env: env({ OPS_PORT: String(opsPort) }),
          readyUrl: `http://127.0.0.1:${opsPort}/health`,
        }),
      );
      metricsUrls.push(`http://127.0.0.1:${opsPort}/metrics`);
    }
    const port = await freePort();
    processes.push(
      await startService({
        entry: API_ENTRY,
        cwd: CWD,
        env: env({ PORT: String(port) }),
        readyUrl: `http://127.0.0.1:${port}/health`,
      }),
    );
    apiUrl = `http://127.0.0.1:${port}`;
    metricsUrls.push(`${apiUrl}/metrics`);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(processes.map((process) => process.stop('SIGKILL')));
    await dataSource?.destroy();
    await fake?.stop();
    await database?.drop();
    await queues?.cleanup();
  });

  /** A user with a session and an active, never-synced connection of `esp` on `listId`. */
  async function owner(esp: EspType, listId: string): Promise<Owner> {
    users += 1;
    const [user] = await dataSource.query<{ id: string }[]>(
      `INSERT INTO users (email) VALUES ($1) RETURNING id`,
      [`budget-owner-${users}@example.com`],
    );
    const token = randomBytes(32).toString('base64url');
    await dataSource.query(
      `INSERT INTO sessions (user_id, token_hash, expires_at) VALUES ($1, $2, now() + interval '1 day')`,
      [user.id, createHash('sha256').update(token, 'utf8').digest('hex')],
    );
    const [connection] = await dataSource.query<{ id: string }[]>(
      `INSERT INTO esp_connections (user_id, esp_type, encrypted_api_key, publication_id)
       VALUES ($1, $2, $3, $4) RETURNING id`,
      [user.id, esp, encryption.encrypt(KEYS[esp]), listId],
    );
    return { token, connectionId: connection.id };
  }

  async function call(path: string, token: string, method = 'GET') {
    const response = await fetch(`${apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await response.json()) as Record<string, unknown>;
    return { status: response.status, body };
  }

  /** Budget waits of `esp` all three processes reported (subscribernest_esp_budget_wait_seconds). */
  async function budgetWaits(esp: EspType): Promise<number> {
    let total = 0;
    for (const url of metricsUrls) {
      const text = await (await fetch(url)).text();
      const line = text
        .split('\n')
        .find((l) => l.startsWith(`subscribernest_esp_budget_wait_seconds_count{esp="${esp}"}`));
      total += line ? Number(line.split(' ').pop()) : 0;
    }
    return total;
  }

  it.each<EspType>(['beehiiv', 'kit', 'mailchimp'])(
    '%s: two syncs of one account in two workers, live calls on the api meanwhile, not one 429',
    async (esp) => {
      fake.resetRateLimitStats(esp, KEYS[esp]);
      const owners = [await owner(esp, LISTS[esp][0]), await owner(esp, LISTS[esp][1])];
      const runs = await Promise.all(
        owners.map(async (o) => {
          const accepted = await call(`/esp-connections/${o.connectionId}/sync`, o.token, 'POST');
          expect(accepted.status).toBe(202);
          return accepted.body.jobId as string;
        }),
      );

      // Owners ask for live counts and list look-ups on the same key until both syncs end: a
      // burst first (more requests at once than the vendor allows), then a steady trickle.
      let syncing = true;
      const answers: number[] = [];
      const ask = async (i: number) => {
        const o = owners[i % 2];
        const route = i % 3 === 0 ? 'lists' : 'subscriber-count';
        answers.push((await call(`/esp-connections/${o.connectionId}/${route}`, o.token)).status);
      };
      await Promise.all(Array.from({ length: 8 }, (_, i) => ask(i)));
      const callers = Array.from({ length: esp === 'mailchimp' ? 6 : 2 }, async (_, i) => {
        while (syncing) {
          await ask(i);
          await sleep(esp === 'mailchimp' ? 100 : 1_000);
        }
      });
      const finished = await Promise.all(
        runs.map((runId) =>
          waitFor(
            async () => {
              const [run] = await dataSource.query<
                { status: string; subscriber_count: number | null; error_message: string | null }[]
              >(`SELECT status, subscriber_count, error_message FROM sync_runs WHERE id = $1`, [
                runId,
              ]);
              return run.status === 'success' || run.status === 'failed' ? run : undefined;
            },
            { timeoutMs: 120_000, intervalMs: 200, description: `${esp} sync ${runId}` },
          ),
        ),
      );
      syncing = false;
      await Promise.all(callers);

      for (const run of finished) {
        expect(run).toMatchObject({ status: 'success', subscriber_count: LIST_SIZE });
      }
      const stats = fake.rateLimitStats(esp, KEYS[esp]);
      expect(stats.rejected).toBe(0);
      // Never past the limit: calls waited for their budget instead (the burst alone asks for
      // more than the limit).
      if (esp === 'mailchimp') expect(stats.peakInFlight).toBeLessThanOrEqual(10);
      else expect(stats.peakWindowRequests).toBeLessThanOrEqual(esp === 'beehiiv' ? 30 : 12);
      expect(await budgetWaits(esp)).toBeGreaterThan(0);
      // Every live call was answered, none with a 429 of ours or the vendor's.
      expect(answers.length).toBeGreaterThan(0);
      expect(answers.filter((status) => status !== 200)).toEqual([]);
    },
    150_000,
  );
});
