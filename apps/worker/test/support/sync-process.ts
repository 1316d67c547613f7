import { createHash, randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import {
  bullmqConnection,
  closeRedisClient,
  DEFAULT_JOB_OPTIONS,
  EncryptionService,
  isRedisClusterUrl,
  JOB,
  JobPayloads,
  QUEUE,
  runMigrations,
  SyncCheckpoint,
} from '@subscribernest/shared';
import {
  createTestDatabase,
  createTestQueuePrefix,
  FakeEspServer,
  FakeListSpec,
  freePort,
  RecordedRequest,
  serviceEnv,
  ServiceExit,
  ServiceProcess,
  startService,
  tcpPortsOf,
  TestDatabase,
  TestQueuePrefix,
  testRedisUrl,
  testSecrets,
  waitFor,
  waitForProcessSessionsToEnd,
} from '@subscribernest/testkit';
import { Queue } from 'bullmq';
import { Cluster } from 'ioredis';
import { DataSource } from 'typeorm';

type SyncData = JobPayloads[typeof JOB.syncPublication];

const ENTRY = resolve(__dirname, '../../dist/main.js');
const API_ENTRY = resolve(__dirname, '../../../api/dist/main.js');
// Run from a directory without a .env file, so no developer setting leaks into the test.
const CWD = resolve(__dirname, '..');
const API_KEY = 'b-sync-process-key';
/** The harness's own Postgres connections (`pg_stat_activity.application_name`). */
export const HARNESS_APPLICATION_NAME = 'sync-harness';

export interface SyncRunRow {
  status: string;
  subscriber_count: number | null;
  created_count: number;
  updated_count: number;
  removed_count: number;
  error_message: string | null;
}

/**
 * What the sync-process specs share: a fresh database, a queue prefix, a fake beehiiv serving
 * `lists`, one set of keys (so a restarted worker decrypts what the first one stored), the built
 * worker (`dist/main.js`) as child processes, and the rows a sync is triggered with.
 */
export class SyncProcessHarness {
  private constructor(
    readonly database: TestDatabase,
    readonly queues: TestQueuePrefix,
    readonly fake: FakeEspServer,
    readonly dataSource: DataSource,
    readonly syncs: Queue<SyncData>,
    private readonly secrets: { ENCRYPTION_KEY: string; HMAC_KEY: string },
    readonly encryption: EncryptionService,
    /** The Redis the services and the harness use (the shared one unless a test brings its own). */
    readonly redisUrl: string,
    /** The harness's own connection to a cluster (BullMQ leaves a given connection open). */
    private readonly cluster: Cluster | null = null,
  ) {}

  private readonly processes: ServiceProcess[] = [];
  private users = 0;

  static async create(
    lists: FakeListSpec[],
    options: { redisUrl?: string } = {},
  ): Promise<SyncProcessHarness> {
    const redisUrl = options.redisUrl ?? testRedisUrl();
    const database = await createTestDatabase({ setup: runMigrations });
    const queues = createTestQueuePrefix(redisUrl);
    const fake = await FakeEspServer.start({
      accounts: [{ esp: 'beehiiv', apiKey: API_KEY, lists }],
    });
    // Named, so a test that terminates every backend of the database can spare the harness's own.
    const dataSource = new DataSource({
      type: 'postgres',
      url: database.url,
      applicationName: HARNESS_APPLICATION_NAME,
    });
    await dataSource.initialize();
    // A cluster through the services' own factory (BullMQ cannot build one from options).
    const cluster = isRedisClusterUrl(redisUrl) ? bullmqConnection(redisUrl, 'producer') : null;
    const syncs = new Queue<SyncData>(QUEUE.subscriberSync, {
      connection: cluster ?? { url: redisUrl },
      prefix: queues.prefix,
      defaultJobOptions: DEFAULT_JOB_OPTIONS[QUEUE.subscriberSync],
    });
    const secrets = testSecrets();
    return new SyncProcessHarness(
      database,
      queues,
      fake,
      dataSource,
      syncs,
      secrets,
      EncryptionService.fromSettings(secrets),
      redisUrl,
      cluster instanceof Cluster ? cluster : null,
    );
  }

  /** Starts the built worker against this harness; resolves once its ops port answers 200. */
  async startWorker(extra: Record<string, string> = {}): Promise<ServiceProcess> {
    const opsPort = extra.OPS_PORT ? Number(extra.OPS_PORT) : await freePort();
    const worker = await startService({
      entry: ENTRY,
      cwd: CWD,
      env: serviceEnv({
        databaseUrl: this.database.url,
        queuePrefix: this.queues.prefix,
        redisUrl: this.redisUrl,
        extra: {
          ...this.secrets,
          OPS_PORT: String(opsPort),
          BEEHIIV_API_URL: this.fake.baseUrls.beehiiv,
          ...extra,
        },
      }),
      readyUrl: `http://127.0.0.1:${opsPort}/health`,
    });
    this.processes.push(worker);
    return worker;
  }

  /**
   * SIGKILLs `service` (no shutdown hook runs) and resolves once Postgres holds no session of it:
   * a COMMIT sent just before the kill still lands after the process is gone, and the test reads
   * what the killed process left only after that.
   */
  async kill(service: ServiceProcess): Promise<ServiceExit> {
    const ports = tcpPortsOf(service.pid);
    const startedBefore = new Date();
    const exit = await service.stop('SIGKILL');
    await waitForProcessSessionsToEnd((sql, parameters) => this.dataSource.query(sql, parameters), {
      ports,
      startedBefore,
    });
    return exit;
  }

  /** Starts the built api against this harness; resolves with it and its base URL once healthy. */
  async startApi(
    extra: Record<string, string> = {},
  ): Promise<{ api: ServiceProcess; url: string }> {
    const port = await freePort();
    const api = await startService({
      entry: API_ENTRY,
      cwd: CWD,
      env: serviceEnv({
        databaseUrl: this.database.url,
        queuePrefix: this.queues.prefix,
        redisUrl: this.redisUrl,
        extra: { ...this.secrets, PORT: String(port), ...extra },
      }),
      readyUrl: `http://127.0.0.1:${port}/health`,
    });
    this.processes.push(api);
    return { api, url: `http://127.0.0.1:${port}` };
  }

  /**
   * A user with a session (bearer token, stored as the api stores it) and an active beehiiv
   * connection on `publicationId` that has never synced: what an owner has before `POST /sync`.
   */
  async owner(
    publicationId: string,
  ): Promise<{ userId: string; connectionId: string; token: string }> {
    this.users += 1;
    const [user] = await this.dataSource.query<{ id: string }[]>(
      `INSERT INTO users (email) VALUES ($1) RETURNING id`,
      [`sync-owner-${this.users}@example.com`],
    );
    const token = randomBytes(32).toString('base64url');
    await this.dataSource.query(
      `INSERT INTO sessions (user_id, token_hash, expires_at) VALUES ($1, $2, now() + interval '1 day')`,
      [user.id, createHash('sha256').update(token, 'utf8').digest('hex')],
    );
    const [connection] = await this.dataSource.query<{ id: string }[]>(
      `INSERT INTO esp_connections (user_id, esp_type, encrypted_api_key, publication_id)
       VALUES ($1, 'beehiiv', $2, $3) RETURNING id`,
      [user.id, this.encryption.encrypt(API_KEY), publicationId],
    );
    return { userId: user.id, connectionId: connection.id, token };
  }

  /** A user, an active beehiiv connection on `publicationId`, and a queued run (sync accepted). */
  async requestSync(publicationId: string): Promise<{ connectionId: string; runId: string }> {
    this.users += 1;
    const [user] = await this.dataSource.query<{ id: string }[]>(
      `INSERT INTO users (email) VALUES ($1) RETURNING id`,
      [`sync-process-${this.users}@example.com`],
    );
    const [connection] = await this.dataSource.query<{ id: string }[]>(
      `INSERT INTO esp_connections (user_id, esp_type, encrypted_api_key, publication_id, sync_status)
       VALUES ($1, 'beehiiv', $2, $3, 'syncing') RETURNING id`,
      [user.id, this.encryption.encrypt(API_KEY), publicationId],
    );
    const [run] = await this.dataSource.query<{ id: string }[]>(
      `INSERT INTO sync_runs (esp_connection_id, user_id, trigger) VALUES ($1, $2, 'manual')
       RETURNING id`,
      [connection.id, user.id],
    );
    // What SyncRequestedListener enqueues for the api's SyncRequestedEvent: job id = run id.
    await this.syncs.add(
      JOB.syncPublication,
      { espConnectionId: connection.id, syncRunId: run.id, trigger: 'manual' },
      { jobId: run.id },
    );
    return { connectionId: connection.id, runId: run.id };
  }

  async checkpointOf(connectionId: string): Promise<SyncCheckpoint | null> {
    const [row] = await this.dataSource.query<{ sync_checkpoint: SyncCheckpoint | null }[]>(
      `SELECT sync_checkpoint FROM esp_connections WHERE id = $1`,
      [connectionId],
    );
    return row?.sync_checkpoint ?? null;
  }

  /** Resolves with the checkpoint once at least `pages` pages of the run are stored. */
  waitForPages(connectionId: string, pages: number): Promise<SyncCheckpoint> {
    return waitFor(
      async () => {
        const checkpoint = await this.checkpointOf(connectionId);
        return checkpoint && checkpoint.pagesDone >= pages ? checkpoint : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 20, description: `${pages} pages to be stored` },
    );
  }

  async runOf(runId: string): Promise<SyncRunRow> {
    const [row] = await this.dataSource.query<SyncRunRow[]>(
      `SELECT status, subscriber_count, created_count, updated_count, removed_count, error_message
         FROM sync_runs WHERE id = $1`,
      [runId],
    );
    return row;
  }

  finished(runId: string, timeoutMs = 45_000): Promise<SyncRunRow> {
    return waitFor(
      async () => {
        const run = await this.runOf(runId);
        return run.status === 'success' || run.status === 'failed' ? run : undefined;
      },
      { timeoutMs, description: `sync run ${runId} to finish` },
    );
  }

  /** The stored external ids of a connection, and how many distinct ones. */
  async storedIds(connectionId: string): Promise<{ total: number; distinct: number }> {
    const [row] = await this.dataSource.query<{ total: number; distinct: number }[]>(
      `SELECT count(*)::int AS total, count(DISTINCT external_id)::int AS distinct
         FROM subscribers WHERE esp_connection_id = $1`,
      [connectionId],
    );
    return row;
  }

  /** Every subscriber the fake serves on `listId` is stored, with its status and email. */
  async expectExact(connectionId: string, listId: string): Promise<void> {
    const rows = await this.dataSource.query<
      { external_id: string; status: string; email_encrypted: string }[]
    >(`SELECT external_id, status, email_encrypted FROM subscribers WHERE esp_connection_id = $1`, [
      connectionId,
    ]);
    const expected = [...this.fake.subscribers('beehiiv', listId)].filter(
      (subscriber) => subscriber.status !== 'other',
    );
    expect(rows).toHaveLength(expected.length);
    const stored = new Map(rows.map((row) => [row.external_id, row]));
    const wrong = expected.filter((subscriber) => {
      const row = stored.get(subscriber.externalId);
      return (
        !row ||
        row.status !== subscriber.status ||
        this.encryption.decrypt(row.email_encrypted) !== subscriber.email
      );
    });
    expect(wrong).toEqual([]);
  }

  /** The page requests the fake answered for `listId`, from request number `from` on. */
  pageRequests(listId: string, from = 0): RecordedRequest[] {
    return this.fake.requests
      .slice(from)
      .filter((request) => request.path === `/publications/${listId}/subscriptions`);
  }

  /**
   * How many requests the fake has answered, once that stops changing (a stopped worker's last
   * request, if one was in flight, is answered within the list's latency).
   */
  settledRequestCount(): Promise<number> {
    return waitFor(
      async () => {
        const count = this.fake.requests.length;
        await new Promise((resolve) => setTimeout(resolve, 200));
        return this.fake.requests.length === count ? count : undefined;
      },
      { description: 'the requests to the fake ESP to settle' },
    );
  }

  async jobRun(jobId: string): Promise<{ status: string; last_error: string | null } | undefined> {
    const [row] = await this.dataSource.query<{ status: string; last_error: string | null }[]>(
      `SELECT status, last_error FROM job_runs WHERE queue = $1 AND job_id = $2`,
      [QUEUE.subscriberSync, jobId],
    );
    return row;
  }

  async close(): Promise<void> {
    await Promise.all(this.processes.map((process) => process.stop('SIGKILL')));
    await this.syncs.close();
    if (this.cluster) await closeRedisClient(this.cluster);
    await this.dataSource.destroy();
    await this.fake.stop();
    await this.database.drop();
    await this.queues.cleanup();
  }
}

/** The beehiiv cursor inside one of our checkpoint cursors (`beehiiv.v1.<base64url JSON>`). */
export function vendorCursorOf(checkpointCursor: string): string {
  const [, , payload] = checkpointCursor.split('.');
  const state = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
    cursor: string;
  };
  return state.cursor;
}
