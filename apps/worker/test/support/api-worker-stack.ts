import { resolve } from 'node:path';
import { QUEUE, runMigrations } from '@subscribernest/shared';
import {
  createTestDatabase,
  createTestQueuePrefix,
  FakeEspServer,
  FakeSmtpServer,
  freePort,
  serviceEnv,
  ServiceProcess,
  startService,
  TestDatabase,
  TestQueuePrefix,
  testRedisUrl,
  waitFor,
} from '@subscribernest/testkit';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';

const WORKER_ENTRY = resolve(__dirname, '../../dist/main.js');
const API_ENTRY = resolve(__dirname, '../../../api/dist/main.js');
// Run from a directory with no .env file, so no developer setting leaks into the test.
const CWD = resolve(__dirname, '..');

export interface ApiAnswer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export interface StackRun {
  id: string;
  status: string;
  subscriber_count: number | null;
  removed_count: number;
  error_message: string | null;
  passes: number;
}

export interface StackOptions {
  esp: FakeEspServer;
  smtp: FakeSmtpServer;
  /** A Redis of the stack's own (a testkit RedisServer's url); default the shared one. */
  redisUrl?: string;
  /** Both services (SharedEnv: SYNC_JOB_ATTEMPTS, ESP_MAX_RETRIES...). */
  env?: Record<string, string>;
  /** The worker only (QUEUE_LOCK_DURATION_MS...). */
  workerEnv?: Record<string, string>;
}

/**
 * The built api (`apps/api/dist/main.js`) and worker (`apps/worker/dist/main.js`) as child
 * processes on a database and queue prefix of their own, pointed at a fake ESP and SMTP server,
 * with one Postgres connection for the test's own reads (a single connection: a
 * `pg_terminate_backend` storm sent through it never ends it).
 */
export class ApiWorkerStack {
  private constructor(
    readonly database: TestDatabase,
    readonly queues: TestQueuePrefix,
    readonly redisUrl: string,
    readonly env: Record<string, string>,
    readonly api: ServiceProcess,
    readonly worker: ServiceProcess,
    readonly apiUrl: string,
    readonly dataSource: DataSource,
    private readonly smtp: FakeSmtpServer,
  ) {}

  private readonly producers: Queue[] = [];

  static async start(options: StackOptions): Promise<ApiWorkerStack> {
    const redisUrl = options.redisUrl ?? testRedisUrl();
    const database = await createTestDatabase({ setup: runMigrations });
    const queues = createTestQueuePrefix(redisUrl);
    const env = serviceEnv({
      databaseUrl: database.url,
      queuePrefix: queues.prefix,
      redisUrl,
      extra: {
        BEEHIIV_API_URL: options.esp.baseUrls.beehiiv,
        OUTBOX_SWEEP_INTERVAL_MS: '500',
        ...options.env,
      },
    });
    const port = await freePort();
    const apiUrl = `http://127.0.0.1:${port}`;
    const api = await startService({
      entry: API_ENTRY,
      cwd: CWD,
      env: { ...env, PORT: String(port) },
      readyUrl: `${apiUrl}/health`,
    });
    const opsPort = await freePort();
    const worker = await startService({
      entry: WORKER_ENTRY,
      cwd: CWD,
      env: {
        ...env,
        OPS_PORT: String(opsPort),
        SMTP_URL: options.smtp.url,
        ...options.workerEnv,
      },
      readyUrl: `http://127.0.0.1:${opsPort}/health`,
    });
    const dataSource = new DataSource({ type: 'postgres', url: database.url, extra: { max: 1 } });
    await dataSource.initialize();
    return new ApiWorkerStack(
      database,
      queues,
      redisUrl,
      env,
      api,
      worker,
      apiUrl,
      dataSource,
      options.smtp,
    );
  }

  async call<T = unknown>(
    method: string,
    path: string,
    token?: string,
    body?: unknown,
  ): Promise<ApiAnswer<T>> {
    const response = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, headers: response.headers, body: parsed as T };
  }

  /** Signs in the way a user does (the code arrives by email, sent by the worker). */
  async signIn(email: string, role?: 'admin'): Promise<string> {
    expect((await this.call('POST', '/auth/send-code', undefined, { email })).status).toBe(200);
    const message = await this.smtp.waitForMessage(
      (m) => m.to.includes(email) && m.subject.includes('sign-in code'),
    );
    const code = /sign-in code is: (\d{6})/.exec(message.text)?.[1];
    const session = await this.call<{ token: string; user: { id: string } }>(
      'POST',
      '/auth/verify-code',
      undefined,
      {
        email,
        code,
      },
    );
    expect(session.status).toBe(200);
    // As apps/api/test/admin.e2e-spec.ts makes an admin: the role is read on every request.
    if (role) {
      await this.dataSource.query(`UPDATE users SET role = $1 WHERE id = $2`, [
        role,
        session.body.user.id,
      ]);
    }
    return session.body.token;
  }

  /** A beehiiv connection on `publicationId` (the api validates it against the fake). */
  async connect(token: string, publicationId: string, apiKey: string): Promise<string> {
    const created = await this.call<{ id: string }>('POST', '/esp-connections', token, {
      espType: 'beehiiv',
      apiKey,
      publicationId,
    });
    expect(created.status).toBe(201);
    return created.body.id;
  }

  /** POST /esp-connections/:id/sync, expected to be accepted; the run id. */
  async requestSync(token: string, connectionId: string): Promise<string> {
    const accepted = await this.call<{ jobId: string; status: string }>(
      'POST',
      `/esp-connections/${connectionId}/sync`,
      token,
    );
    expect(accepted.status).toBe(202);
    expect(accepted.body.status).toBe('queued');
    return accepted.body.jobId;
  }

  async runOf(runId: string): Promise<StackRun> {
    const [row] = await this.dataSource.query<StackRun[]>(
      `SELECT id, status, subscriber_count, removed_count, error_message, passes
         FROM sync_runs WHERE id = $1`,
      [runId],
    );
    return row;
  }

  waitForRunStatus(runId: string, statuses: string[], timeoutMs = 60_000): Promise<StackRun> {
    return waitFor(
      async () => {
        const run = await this.runOf(runId);
        return run && statuses.includes(run.status) ? run : undefined;
      },
      { timeoutMs, description: `sync run ${runId} to be ${statuses.join(' or ')}` },
    );
  }

  finished(runId: string, timeoutMs = 60_000): Promise<StackRun> {
    return this.waitForRunStatus(runId, ['success', 'failed'], timeoutMs);
  }

  /** Resolves once at least `pages` pages of the connection's current run are stored. */
  waitForPages(connectionId: string, pages: number, timeoutMs = 30_000): Promise<number> {
    return waitFor(
      async () => {
        const [row] = await this.dataSource.query<{ pages: number | null }[]>(
          `SELECT (sync_checkpoint->>'pagesDone')::int AS pages FROM esp_connections WHERE id = $1`,
          [connectionId],
        );
        return row?.pages !== null && row?.pages !== undefined && row.pages >= pages
          ? row.pages
          : undefined;
      },
      { timeoutMs, intervalMs: 20, description: `${pages} pages to be stored` },
    );
  }

  async connectionOf(
    connectionId: string,
  ): Promise<{ status: string; sync_status: string; sync_checkpoint: unknown }> {
    const [row] = await this.dataSource.query<
      { status: string; sync_status: string; sync_checkpoint: unknown }[]
    >(`SELECT status, sync_status, sync_checkpoint FROM esp_connections WHERE id = $1`, [
      connectionId,
    ]);
    return row;
  }

  /** Stored subscribers of a connection, and how many distinct external ids. */
  async storedIds(connectionId: string): Promise<{ total: number; distinct: number }> {
    const [row] = await this.dataSource.query<{ total: number; distinct: number }[]>(
      `SELECT count(*)::int AS total, count(DISTINCT external_id)::int AS distinct
         FROM subscribers WHERE esp_connection_id = $1`,
      [connectionId],
    );
    return row;
  }

  /** Runs left queued/running, and connections left syncing, anywhere in this database. */
  async unfinished(): Promise<{ runs: number; syncing: number }> {
    const [row] = await this.dataSource.query<{ runs: number; syncing: number }[]>(
      `SELECT (SELECT count(*)::int FROM sync_runs WHERE status IN ('queued', 'running')) AS runs,
              (SELECT count(*)::int FROM esp_connections WHERE sync_status = 'syncing') AS syncing`,
    );
    return row;
  }

  async jobRun(
    jobId: string,
  ): Promise<{ id: string; status: string; attempts: number; last_error: string | null } | undefined> {
    const [row] = await this.dataSource.query<
      { id: string; status: string; attempts: number; last_error: string | null }[]
    >(`SELECT id, status, attempts, last_error FROM job_runs WHERE queue = $1 AND job_id = $2`, [
      QUEUE.subscriberSync,
      jobId,
    ]);
    return row;
  }

  /** A producer on the stack's `subscriber-sync` queue (same Redis and prefix), to read jobs. */
  syncQueue(): Queue {
    const queue = new Queue(QUEUE.subscriberSync, {
      connection: { url: this.redisUrl },
      prefix: this.queues.prefix,
    });
    this.producers.push(queue);
    return queue;
  }

  async close(): Promise<void> {
    await Promise.all(this.producers.map((queue) => queue.close()));
    await this.worker.stop('SIGTERM');
    await this.api.stop('SIGTERM');
    await this.dataSource.destroy();
    await this.database.drop();
    await this.queues.cleanup().catch(() => undefined);
  }
}
