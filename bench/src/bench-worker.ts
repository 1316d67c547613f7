/**
 * What the benches that sync through the built worker share: the worker started as a child
 * process against a bench database and the fake ESP, connections created as the api does, and
 * a manual sync requested as the api records one (a run row and its outbox event, which the
 * worker's sweeper picks up), then awaited.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { EncryptionService, EVENT } from '@subscribernest/shared';
import {
  FakeEspServer,
  freePort,
  serviceEnv,
  ServiceProcess,
  startService,
} from '@subscribernest/testkit';
import { Client } from 'pg';
import { cpuProfileArgs, extraNodeArgs } from './bench-args';

const WORKER_ENTRY = join(__dirname, '../../apps/worker/dist/main.js');

/** The heap cap the worker is deployed with (docker-compose.yml, scripts/start.sh: WORKER_NODE_OPTIONS). */
export const DEPLOYED_WORKER_NODE_ARGS = ['--max-old-space-size=256'];

export interface BenchOwner {
  userId: string;
  connectionId: string;
}

export interface FinishedBenchRun {
  mode: string;
  seconds: number;
  created_count: number;
  updated_count: number;
  removed_count: number;
}

/** The built worker, crons off unless `extra` says otherwise, ready once its ops port answers. */
export async function startBenchWorker(options: {
  databaseUrl: string;
  queuePrefix: string;
  secrets: Record<string, string>;
  fake: FakeEspServer;
  extra?: Record<string, string>;
}): Promise<ServiceProcess> {
  const opsPort = await freePort();
  return startService({
    entry: WORKER_ENTRY,
    env: serviceEnv({
      databaseUrl: options.databaseUrl,
      queuePrefix: options.queuePrefix,
      extra: {
        ...options.secrets,
        LOG_LEVEL: 'warn',
        OPS_PORT: String(opsPort),
        OUTBOX_SWEEP_INTERVAL_MS: '200',
        BEEHIIV_API_URL: options.fake.baseUrls.beehiiv,
        KIT_API_URL: options.fake.baseUrls.kit,
        MAILCHIMP_API_URL: options.fake.baseUrls.mailchimp,
        // A full pass of a large list runs for longer than the default reaper's patience allows
        // on a slow machine; nothing here is stuck.
        SYNC_MAX_RUN_DURATION_MS: String(7 * 24 * 3_600_000),
        ...options.extra,
      },
    }),
    readyUrl: `http://127.0.0.1:${opsPort}/health`,
    // --node-args come after the deployed options, so a trial can override them.
    nodeArgs: [...DEPLOYED_WORKER_NODE_ARGS, ...cpuProfileArgs(), ...extraNodeArgs()],
  });
}

/** A user and an active connection of `esp` to `publicationId`, its key encrypted. */
export async function createBenchConnection(
  db: Client,
  encryption: EncryptionService,
  connection: { esp: string; apiKey: string; publicationId: string; email: string },
): Promise<BenchOwner> {
  const {
    rows: [user],
  } = await db.query<{ id: string }>(`INSERT INTO users (email) VALUES ($1) RETURNING id`, [
    connection.email,
  ]);
  const {
    rows: [row],
  } = await db.query<{ id: string }>(
    `INSERT INTO esp_connections (user_id, esp_type, encrypted_api_key, publication_id)
     VALUES ($1, $2, $3, $4) RETURNING id`,
    [user.id, connection.esp, encryption.encrypt(connection.apiKey), connection.publicationId],
  );
  return { userId: user.id, connectionId: row.id };
}

/** A manual sync of `owner`'s connection, as the api records one; returns the run id. */
export async function requestBenchSync(db: Client, owner: BenchOwner): Promise<string> {
  const runId = randomUUID();
  const eventId = randomUUID();
  await db.query('BEGIN');
  try {
    await db.query(
      `INSERT INTO sync_runs (id, esp_connection_id, user_id, trigger) VALUES ($1, $2, $3, 'manual')`,
      [runId, owner.connectionId, owner.userId],
    );
    await db.query(
      `INSERT INTO outbox_events (id, event_type, payload, created_at)
       VALUES ($1, $2, $3, now() - interval '1 minute')`,
      [
        eventId,
        EVENT.syncRequested,
        JSON.stringify({
          eventId,
          espConnectionId: owner.connectionId,
          userId: owner.userId,
          syncRunId: runId,
          requestedAt: new Date().toISOString(),
        }),
      ],
    );
    await db.query('COMMIT');
  } catch (error) {
    await db.query('ROLLBACK');
    throw error;
  }
  return runId;
}

/** Polls the run until it succeeds (its counts and started → completed seconds) or fails. */
export async function awaitBenchRun(
  db: Client,
  runId: string,
  options: { deadline: number; intervalMs: number; label: string },
): Promise<FinishedBenchRun> {
  for (;;) {
    const {
      rows: [run],
    } = await db.query<FinishedBenchRun & { status: string; error_message: string | null }>(
      `SELECT status, mode, created_count, updated_count, removed_count, error_message,
              extract(epoch FROM completed_at - started_at)::float AS seconds
         FROM sync_runs WHERE id = $1`,
      [runId],
    );
    if (run.status === 'failed') {
      throw new Error(`${options.label}: the sync failed: ${run.error_message}`);
    }
    if (run.status === 'success') return run;
    if (Date.now() > options.deadline) {
      throw new Error(`${options.label}: no result in time (run ${run.status})`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
  }
}
