import { Injectable } from '@nestjs/common';
import { rowsOf } from '../database/rows-of';
import { DataSource, EntityManager } from 'typeorm';
import { EspConnection, EspType, SyncCheckpoint } from '../entities/esp-connection.entity';
import { OutboxEvent } from '../entities/outbox-event.entity';
import { SyncMode, SyncRun, SyncRunStatus, SyncTrigger } from '../entities/sync-run.entity';
import { SyncRequestedEvent } from '../events/sync-requested.event';
import type { PoolClient } from 'pg';
import {
  copySubscriberPage,
  findChangedSubscribers,
  isUniqueViolation,
  PageCounts,
  SubscriberCandidate,
  SubscriberRow,
  upsertSubscriberPage,
} from './subscriber-page';
import { fromStates } from './sync-run-transitions';
import { entitledSubscriptionSql } from '../billing/subscription-entitlement';
import { SkipReason } from './subscriber-sanitizer';

/**
 * The pass of a sync run that owns it: `token` is its fencing token. Every write the pass makes
 * names the token in the same statement; once another pass starts (or the run is failed from
 * outside), the token no longer matches and the write changes nothing.
 */
export interface SyncPass {
  runId: string;
  connectionId: string;
  userId: string;
  token: string;
  /** 1 for the run's first pass; each start of its job adds one. */
  number: number;
  trigger: SyncTrigger;
  startedAt: Date;
  /** Total time the run has waited on ESP rate limits so far. */
  rateLimitedMs: number;
  /** Full or incremental: null until the run's first pass plans it (`planPass`). */
  mode: SyncMode | null;
  /** An incremental run's watermark: what changed since then is fetched. */
  changedSince: Date | null;
  connection: Pick<
    EspConnection,
    | 'id'
    | 'userId'
    | 'espType'
    | 'encryptedApiKey'
    | 'publicationId'
    | 'status'
    | 'syncWatermark'
    | 'lastFullSyncAt'
  >;
  /** Where this run's previous pass stopped; null for a pass from the beginning. */
  checkpoint: SyncCheckpoint | null;
}

/**
 * Thrown by `finish` when the run's seen set holds fewer ids than its pass stored: Postgres's
 * crash recovery emptied the unlogged table under a running pass. Nothing was changed; removing
 * unseen subscribers now would remove live ones, so the pass must start over (`restartPass`).
 */
export class SeenSetLostError extends Error {
  override readonly name = 'SeenSetLostError';

  constructor(
    readonly runId: string,
    readonly kept: number,
    readonly counted: number,
  ) {
    super(
      `sync run ${runId} kept ${kept} of the ${counted} ids its pass saw (Postgres restarted ` +
        'after a crash): the pass starts over before removing anything',
    );
  }
}

/** storePage's COPY met a stored row: the batch is written again with the upsert. */
class InsertOnlyConflict extends Error {
  constructor() {
    super('a row of the batch is already stored');
    this.name = 'InsertOnlyConflict';
  }
}

/** Thrown by a fenced write of a pass that no longer owns its run: nothing was written. */
export class PassLostError extends Error {
  override readonly name = 'PassLostError';

  constructor(
    readonly runId: string,
    readonly status: SyncRunStatus | null,
  ) {
    super(
      status === 'running'
        ? `sync run ${runId} was taken over by a newer pass of its job`
        : `sync run ${runId} is ${status ?? 'gone'}: this pass no longer owns it`,
    );
  }
}

export type StartPassOutcome =
  | { kind: 'started'; pass: SyncPass }
  /** The run is finished, gone, or not this connection's: the job has nothing to do. */
  | { kind: 'not-runnable'; status: SyncRunStatus | null };

export type ManualSyncOutcome =
  | { kind: 'not-found' }
  /** The connection is `invalid` (rejected key) or `disconnected` (being deleted). */
  | { kind: 'inactive'; connection: EspConnection }
  /** A new run, its connection marked `syncing`, and its outbox event: all committed together. */
  | { kind: 'created'; run: SyncRun; connection: EspConnection }
  /** A run of this connection was already queued or running: that one is the answer. */
  | { kind: 'existing'; run: SyncRun; connection: EspConnection }
  /** The unfinished run that blocked ours finished before we could read it: ask again. */
  | { kind: 'raced' };

/** A connection's unfinished sync run, as the midnight fan-out enqueues it. */
export interface UnfinishedSyncRun {
  syncRunId: string;
  espConnectionId: string;
  trigger: SyncTrigger;
  /** True when this page created the run; false when a sync was already queued or running. */
  created: boolean;
}

export interface ScheduledRunsPage {
  /** Active connections in the page (fewer than the limit: it was the last page). */
  connections: number;
  /** Keyset position of the next page; null when the page was empty. */
  lastConnectionId: string | null;
  runs: UnfinishedSyncRun[];
  /** Connections of the page left alone because their user has no entitled subscription. */
  unsubscribed: number;
}

export interface ScheduledPageOptions {
  /**
   * Billing is enabled: only connections of users with an entitled subscription
   * (subscription-entitlement.ts) get a run; the others are counted in `unsubscribed`.
   */
  requireSubscription: boolean;
  /** Recorded on the runs created (the midnight fan-out passes its `cron_runs` id). */
  correlationId?: string;
}

/** How a run fetches: decided once, on its first pass, and kept by every later one. */
export type SyncPlan = { mode: 'full' } | { mode: 'incremental'; changedSince: Date };

/** What a page left out (subscriber-sanitizer.ts), stored with the page. */
export interface PageSkips {
  /** Counts by reason. */
  reasons: Partial<Record<SkipReason, number>>;
  /** Ids of skipped subscribers, kept as seen so that their stored copies are not removed. */
  seenExternalIds: string[];
}

const NO_SKIPS: PageSkips = { reasons: {}, seenExternalIds: [] };

export interface FinishedRun {
  subscriberCount: number;
  created: number;
  updated: number;
  removed: number;
}

export type ResetOutcome =
  | { kind: 'reset'; runId: string; connectionId: string; userId: string; trigger: SyncTrigger }
  | { kind: 'not-found' }
  /** The run is not failed (nothing to reset). */
  | { kind: 'not-failed'; status: SyncRunStatus }
  /** Its connection is gone, disconnected or invalid: a retry could not run. */
  | { kind: 'connection-unavailable'; status: EspConnection['status'] | null }
  /** Another sync of the connection is queued or running. */
  | { kind: 'busy' };

/** An unfinished run the reaper looks at. */
export interface StaleSyncRun {
  runId: string;
  connectionId: string;
  status: 'queued' | 'running';
  trigger: SyncTrigger;
  /** Running since its first pass for longer than the maximum run duration. */
  overdue: boolean;
  /** Its SyncRequestedEvent is still in the outbox, unpublished (Redis was down): not stuck. */
  awaitingOutbox: boolean;
}

/** How a failure reads on the run (owner-facing) and what else it does. */
export interface RunFailure {
  /** Shown to the owner in sync-history: what happened, in a sentence, no internals. */
  reason: string;
  /** The ESP rejected the key: the connection becomes `invalid`. */
  invalidCredentials?: boolean;
}

/** Below every uuid: the keyset position before the first page. */
const FIRST_ID = '00000000-0000-0000-0000-000000000000';

/** A row of the fan-out page's statement: its summary (`page`) or one of its runs. */
interface ScheduledPageRow {
  kind: 'page' | 'created' | 'existing';
  connections: number;
  unsubscribed: number;
  id: string;
  esp_connection_id: string;
  trigger: SyncTrigger;
}

/** Rolls a transaction back and carries the outcome out of it. */
class Abort<T> extends Error {
  constructor(readonly outcome: T) {
    super('aborted');
  }
}

/**
 * Whether the connection (the `connectionParam` placeholder) stores no subscriber. A first sync
 * has nothing to compare with (hasSubscribers), and a pass that begins so keeps no seen set
 * (`sync_runs.seen_set_skipped`). Sound because runs of a connection never overlap (one unfinished
 * run per connection), another run's pass discards this run's checkpoint (startPass), and only a
 * pass at its own checkpoint's end may finish: whatever is stored at the end, this pass stored.
 */
function storesNothing(connectionParam: string): string {
  return `NOT EXISTS (SELECT 1 FROM subscribers WHERE esp_connection_id = ${connectionParam})`;
}

interface StartedRow {
  pass_token: string;
  passes: number;
  user_id: string;
  trigger: SyncTrigger;
  started_at: Date;
  rate_limited_ms: string;
  mode: SyncMode | null;
  changed_since: Date | null;
}

interface ConnectionRow {
  id: string;
  user_id: string;
  esp_type: EspConnection['espType'];
  encrypted_api_key: string;
  publication_id: string;
  status: EspConnection['status'];
  sync_checkpoint: SyncCheckpoint | null;
  sync_watermark: Date | null;
  last_full_sync_at: Date | null;
}

/**
 * The one owner of a sync run's life and of its connection's sync state (`sync_runs.status`,
 * `esp_connections.sync_status` / `status` / `sync_checkpoint`, the run's seen ids): the api, the
 * midnight fan-out, the processor, the job-failure hook and the reaper all go through it, and
 * nothing else writes those columns.
 *
 * - Transitions are SYNC_RUN_TRANSITIONS; each UPDATE names the states it expects, so a late or
 *   duplicate caller changes nothing instead of undoing a newer state.
 * - Passes are fenced: `startPass` issues a new token and thereby takes the run from any older pass
 *   of the same job (BullMQ ran it twice: lock lost in a Redis outage, a blocked event loop, a
 *   stalled check). Pages, finish, failure and hand-back of a pass check its token in the same
 *   statement. Mutual exclusion needs no connection to stay open.
 * - Ghosts are removed only by the owning pass, and only once the stored checkpoint says the pass
 *   reached the end of the list; the seen ids always match the checkpoint (both are written in the
 *   page's transaction, and both start over together).
 * - Locks are taken in one order everywhere: the run row, then subscriber rows, then the
 *   connection row. Where a constraint decides (one unfinished run per connection), no row is
 *   locked beforehand, so a request racing a running sync waits on it and never deadlocks with it.
 */
@Injectable()
export class SyncRunLifecycle {
  private readonly failureObservers: ((espType: EspType) => void)[] = [];

  constructor(private readonly dataSource: DataSource) {}

  /**
   * Calls `observer` once for every run this lifecycle fails, whichever path failed it (the pass,
   * the job-failure hook, the reaper, an enqueue that Redis refused): the one place that sees
   * every failure, for the worker's run metrics.
   */
  onRunFailed(observer: (espType: EspType) => void): void {
    this.failureObservers.push(observer);
  }

  /**
   * A manual sync (ARCHITECTURE §4), in one transaction: the run (queued), the connection marked
   * `syncing`, and the outbox row of `event`. When another unfinished run of the connection holds
   * the unique index, nothing is written and that run is the answer.
   */
  async createManual(
    userId: string,
    connectionId: string,
    event: SyncRequestedEvent,
  ): Promise<ManualSyncOutcome> {
    try {
      return await this.dataSource.transaction(async (manager) => {
        const inserted = await manager.query<{ id: string }[]>(
          `INSERT INTO sync_runs (id, esp_connection_id, user_id, trigger, status, correlation_id)
           SELECT $1, c.id, c.user_id, 'manual', 'queued', $4 FROM esp_connections c
            WHERE c.id = $2 AND c.user_id = $3 AND c.status = 'active'
           ON CONFLICT (esp_connection_id) WHERE status IN ('queued', 'running') DO NOTHING
           RETURNING id`,
          [event.syncRunId, connectionId, userId, event.correlationId ?? null],
        );
        if (inserted.length === 0) return this.whyNotCreated(manager, userId, connectionId);

        // Run row first, then the connection: the order every transition takes.
        const marked = rowsOf<{ id: string }>(
          await manager.query(
            `UPDATE esp_connections SET sync_status = 'syncing', updated_at = now()
              WHERE id = $1 AND user_id = $2 AND status = 'active'
              RETURNING id`,
            [connectionId, userId],
          ),
        );
        if (marked.length === 0) {
          // Turned invalid or disconnected since the insert read it: undo the run.
          const connection = await manager.findOneBy(EspConnection, { id: connectionId, userId });
          throw new Abort<ManualSyncOutcome>(
            connection ? { kind: 'inactive', connection } : { kind: 'not-found' },
          );
        }
        await manager.insert(OutboxEvent, {
          id: event.eventId,
          eventType: SyncRequestedEvent.eventName,
          payload: { ...event.toPayload() },
        });
        return {
          kind: 'created',
          run: await manager.findOneByOrFail(SyncRun, { id: event.syncRunId }),
          connection: await manager.findOneByOrFail(EspConnection, { id: connectionId, userId }),
        };
      });
    } catch (error) {
      if (error instanceof Abort) return error.outcome as ManualSyncOutcome;
      throw error;
    }
  }

  /**
   * The midnight fan-out's page, in one statement (so one round trip, and atomic on its own): for
   * the next `limit` active connections after `afterId` (id order), a `scheduled` run for each one
   * without an unfinished run, those connections marked `syncing`, and every connection's
   * unfinished run (created now or already there). The unique index decides a race with a manual
   * trigger; no connection row is locked before the runs are written. Connections of accounts
   * waiting for deletion get no run and are not counted; with `requireSubscription`, connections
   * of users without an entitled subscription get no run and are counted instead.
   */
  async createScheduledPage(
    afterId: string | null,
    limit: number,
    options: ScheduledPageOptions = { requireSubscription: false },
  ): Promise<ScheduledRunsPage> {
    const entitled = options.requireSubscription
      ? `EXISTS (SELECT 1 FROM billing_accounts b
                  WHERE b.user_id = c.user_id AND ${entitledSubscriptionSql('b')})`
      : 'true';
    const rows = await this.dataSource.query<ScheduledPageRow[]>(
      `WITH page AS MATERIALIZED (
         -- The keyset walk alone, then each connection's flags: with the account filter inside
         -- the walk's WHERE, Postgres planned a scan of every connection and a sort per page
         -- (a fan-out quadratic in the connections); this reads the page's own index entries.
         SELECT c.id, c.user_id, ${entitled} AS entitled,
                -- An account waiting for deletion syncs no more, from the moment it was requested.
                EXISTS (SELECT 1 FROM users u
                         WHERE u.id = c.user_id AND u.delete_requested_at IS NOT NULL) AS deleting
           FROM esp_connections c
          WHERE c.status = 'active' AND c.id > $1
          ORDER BY c.id
          LIMIT $2
       ), wanted AS (
         SELECT id, user_id FROM page WHERE entitled AND NOT deleting
       ), created AS (
         INSERT INTO sync_runs (esp_connection_id, user_id, trigger, status, correlation_id)
         SELECT id, user_id, 'scheduled', 'queued', $3 FROM wanted
         ON CONFLICT (esp_connection_id) WHERE status IN ('queued', 'running') DO NOTHING
         RETURNING id, esp_connection_id, trigger
       ), marked AS (
         -- = ANY(array) here and LATERAL … LIMIT 1 below rather than joins: the joins were
         -- planned as a hash of every connection and of every unfinished run for each page,
         -- so a fan-out's cost grew with the square of the connections; these are the page's
         -- own index probes, whatever the statistics say.
         UPDATE esp_connections c SET sync_status = 'syncing', updated_at = now()
          WHERE c.id = ANY(ARRAY(SELECT esp_connection_id FROM created))
       )
       -- The page's summary first (its last connection is where the next page starts), then the
       -- runs. The statement's snapshot predates the insert, so the LATERAL sees exactly the runs
       -- that were already unfinished: the ones this page skips.
       SELECT 'page' AS kind, count(*)::int AS connections,
              count(*) FILTER (WHERE NOT entitled AND NOT deleting)::int AS unsubscribed,
              (SELECT id FROM page ORDER BY id DESC LIMIT 1) AS id,
              NULL::uuid AS esp_connection_id, NULL AS trigger
         FROM page
       UNION ALL
       SELECT 'created', NULL, NULL, id, esp_connection_id, trigger FROM created
       UNION ALL
       SELECT 'existing', NULL, NULL, r.id, r.esp_connection_id, r.trigger
         FROM wanted
         CROSS JOIN LATERAL (
           SELECT id, esp_connection_id, trigger FROM sync_runs
            WHERE esp_connection_id = wanted.id AND status IN ('queued', 'running')
            LIMIT 1) r`,
      [afterId ?? FIRST_ID, limit, options.correlationId ?? null],
    );
    const summary = rows.find((row) => row.kind === 'page');
    if (!summary || summary.connections === 0) {
      return { connections: 0, lastConnectionId: null, runs: [], unsubscribed: 0 };
    }
    return {
      connections: summary.connections,
      lastConnectionId: summary.id,
      unsubscribed: summary.unsubscribed,
      runs: rows
        .filter((row) => row.kind !== 'page')
        .map((row) => ({
          syncRunId: row.id,
          espConnectionId: row.esp_connection_id,
          trigger: row.trigger,
          created: row.kind === 'created',
        })),
    };
  }

  /**
   * A pass starts: the run becomes `running` under a new fencing token (any older pass of the job
   * loses it), in one transaction with reading the connection and the checkpoint that pass left.
   * A checkpoint of another run is ignored and this run's seen ids are cleared: the seen ids always
   * match the checkpoint the pass resumes from. Seen ids of the connection's finished runs go too.
   */
  async startPass(runId: string, connectionId: string): Promise<StartPassOutcome> {
    return this.dataSource.transaction(async (manager) => {
      const started = rowsOf<StartedRow>(
        await manager.query(
          `UPDATE sync_runs
              SET status = 'running', pass_token = gen_random_uuid(), passes = passes + 1,
                  started_at = COALESCE(started_at, now()), heartbeat_at = now(),
                  error_message = NULL
            WHERE id = $1 AND esp_connection_id = $2 AND status = ANY($3::varchar[])
            RETURNING pass_token, passes, user_id, trigger, started_at, rate_limited_ms, mode,
                      changed_since`,
          [runId, connectionId, fromStates('startPass')],
        ),
      );
      const [run] = started;
      if (!run) {
        return { kind: 'not-runnable', status: (await this.runState(manager, runId)).status };
      }

      const [connection] = await manager.query<ConnectionRow[]>(
        `SELECT id, user_id, esp_type, encrypted_api_key, publication_id, status, sync_checkpoint,
                sync_watermark, last_full_sync_at
           FROM esp_connections WHERE id = $1`,
        [connectionId],
      );
      const checkpoint =
        connection.sync_checkpoint?.syncRunId === runId ? connection.sync_checkpoint : null;
      await manager.query(
        `DELETE FROM sync_seen_batches
          WHERE sync_run_id IN (
            SELECT id FROM sync_runs
             WHERE esp_connection_id = $1
               AND (status IN ('success', 'failed') OR (id = $2 AND $3::boolean)))`,
        [connectionId, runId, checkpoint === null],
      );
      if (checkpoint === null) {
        await manager.query(
          `UPDATE sync_runs SET seen_count = 0, seen_set_skipped = ${storesNothing('$2')} WHERE id = $1`,
          [runId, connectionId],
        );
      }
      await manager.query(
        `UPDATE esp_connections
            SET sync_status = 'syncing', updated_at = now(),
                sync_checkpoint = CASE WHEN $2::boolean THEN NULL ELSE sync_checkpoint END
          WHERE id = $1`,
        [connectionId, checkpoint === null],
      );
      return {
        kind: 'started',
        pass: {
          runId,
          connectionId,
          userId: run.user_id,
          token: run.pass_token,
          number: run.passes,
          trigger: run.trigger,
          startedAt: run.started_at,
          rateLimitedMs: Number(run.rate_limited_ms),
          mode: run.mode,
          changedSince: run.changed_since,
          connection: {
            id: connection.id,
            userId: connection.user_id,
            espType: connection.esp_type,
            encryptedApiKey: connection.encrypted_api_key,
            publicationId: connection.publication_id,
            status: connection.status,
            syncWatermark: connection.sync_watermark,
            lastFullSyncAt: connection.last_full_sync_at,
          },
          checkpoint,
        },
      };
    });
  }

  /**
   * Records how the run fetches, once (fenced): the first pass of a run plans it, every later
   * pass (a resume after a crash or a 429, an admin's retry) finds the plan on the run and keeps
   * it, so a resumed incremental pass asks for the same changes its cursor was made for. Returns
   * the pass with the plan the run holds.
   */
  async planPass(pass: SyncPass, plan: SyncPlan): Promise<SyncPass> {
    const rows = rowsOf<{ mode: SyncMode; changed_since: Date | null }>(
      await this.dataSource.query(
        `UPDATE sync_runs
            SET mode = COALESCE(mode, $3), changed_since = CASE WHEN mode IS NULL THEN $4::timestamptz
                                                           ELSE changed_since END
          WHERE id = $1 AND pass_token = $2 AND status = 'running'
          RETURNING mode, changed_since`,
        [
          pass.runId,
          pass.token,
          plan.mode,
          plan.mode === 'incremental' ? plan.changedSince.toISOString() : null,
        ],
      ),
    );
    if (rows.length === 0) {
      throw new PassLostError(
        pass.runId,
        (await this.runState(this.dataSource.manager, pass.runId)).status,
      );
    }
    return { ...pass, mode: rows[0].mode, changedSince: rows[0].changed_since };
  }

  /**
   * The ids among `candidates` whose stored copy is missing or differs: what a page must encrypt
   * and write (findChangedSubscribers). Unfenced and without locks: it only decides what to send.
   */
  changedSubscribers(pass: SyncPass, candidates: SubscriberCandidate[]): Promise<Set<string>> {
    return findChangedSubscribers(this.dataSource.manager, pass.connectionId, candidates);
  }

  /** Whether the connection stores any subscriber (a first sync has nothing to compare with). */
  async hasSubscribers(connectionId: string): Promise<boolean> {
    const rows = rowsOf<{ found: boolean }>(
      await this.dataSource.query(`SELECT NOT ${storesNothing('$1')} AS found`, [connectionId]),
    );
    return rows[0]?.found === true;
  }

  /**
   * One batch of the owning pass, in one transaction: the fence (which also locks the run row
   * first), the new and changed rows (inserted by COPY on a first sync, see storeBatch, else
   * upserted), the seen ids (those rows, the `unchanged` ones and the skipped ones), the run's
   * counters and the connection's checkpoint. A pass that lost the run gets PassLostError and
   * writes nothing.
   */
  async storePage(
    pass: SyncPass,
    rows: SubscriberRow[],
    checkpoint: SyncCheckpoint,
    skipped: PageSkips = NO_SKIPS,
    unchangedExternalIds: readonly string[] = [],
  ): Promise<PageCounts> {
    const store = (insertOnly: boolean) =>
      this.storeBatch(pass, rows, checkpoint, skipped, unchangedExternalIds, insertOnly);
    try {
      return await store(true);
    } catch (error) {
      // A row this pass stored before (a resume re-reading the pages after its checkpoint, an ESP
      // listing someone twice): the batch did not go in as inserts only, so it is upserted.
      if (!(error instanceof InsertOnlyConflict)) throw error;
      return store(false);
    }
  }

  /**
   * storePage's transaction. A pass that began on a connection storing nothing (its seen set
   * skipped: whatever is stored, this pass stored) inserts its rows with COPY when `insertOnly`;
   * any conflict rolls the whole batch back (InsertOnlyConflict) for the upsert to write it.
   */
  private storeBatch(
    pass: SyncPass,
    rows: SubscriberRow[],
    checkpoint: SyncCheckpoint,
    skipped: PageSkips,
    unchangedExternalIds: readonly string[],
    insertOnly: boolean,
  ): Promise<PageCounts> {
    return this.dataSource.transaction(async (manager) => {
      const { seenSetSkipped } = await this.fence(manager, pass, 'storePage');
      const counts =
        insertOnly && seenSetSkipped
          ? await this.copyBatch(manager, pass.connectionId, rows)
          : await upsertSubscriberPage(manager, pass.connectionId, rows);
      // A skipped subscriber still counts as seen: the copy an earlier sync stored stays, rather
      // than being removed as gone from the list.
      // Seen ids serve the removal of ghosts at the end of a full pass; an incremental pass
      // removes nothing, and a pass that began on an empty connection has no ghost to find, so
      // neither keeps them.
      const seenIds =
        pass.mode === 'incremental'
          ? []
          : [
              ...rows.map((row) => row.externalId),
              ...unchangedExternalIds,
              ...skipped.seenExternalIds,
            ];
      const seen = seenSetSkipped ? [] : seenIds;
      // A skipped seen set still counts what it would hold: a worker of the previous version
      // resuming this pass (a rolling deploy) keeps a seen set only from there on, and this count
      // makes its end find the set short and go over the list again, instead of removing what
      // this pass stored.
      const seenUnkept = seenSetSkipped ? seenIds.length : 0;
      const skippedCount = Object.values(skipped.reasons).reduce((sum, n) => sum + (n ?? 0), 0);
      // One statement: the batch's seen ids as one row (counted as they go in, in this logged
      // transaction: see SeenSetLostError), the change and skip counters, the heartbeat. One row
      // per batch, not per id: an id's own row (its key, its foreign-key check, its deletion at
      // the end) cost Postgres more than the upsert of an unchanged batch. The array goes as JSON
      // (JSON.stringify, native) rather than varchar[]: the driver escapes an array's every
      // element in JavaScript. An id seen twice is counted twice, on both sides of the check.
      await manager.query(
        `WITH seen AS (
           INSERT INTO sync_seen_batches (sync_run_id, external_ids, id_count)
           SELECT $1, $6::json, $8 WHERE $8 > 0)
         UPDATE sync_runs
            SET created_count = created_count + $2, updated_count = updated_count + $3,
                skipped_count = skipped_count + $4,
                skip_reasons = CASE WHEN $4 = 0 THEN skip_reasons ELSE (
                  SELECT jsonb_object_agg(reason, total) FROM (
                    SELECT reason, sum(n::int) AS total
                      FROM (SELECT * FROM jsonb_each_text(skip_reasons)
                            UNION ALL SELECT * FROM jsonb_each_text($5::jsonb)) AS r(reason, n)
                     GROUP BY reason) AS totals) END,
                seen_count = seen_count + $8 + $7,
                heartbeat_at = now()
          WHERE id = $1`,
        [
          pass.runId,
          counts.created,
          counts.updated,
          skippedCount,
          JSON.stringify(skipped.reasons),
          JSON.stringify(seen),
          seenUnkept,
          seen.length,
        ],
      );
      await manager.query(`UPDATE esp_connections SET sync_checkpoint = $2 WHERE id = $1`, [
        pass.connectionId,
        JSON.stringify(checkpoint),
      ]);
      return counts;
    });
  }

  /** storeBatch's COPY of the rows; a stored row among them is an InsertOnlyConflict. */
  private async copyBatch(
    manager: EntityManager,
    connectionId: string,
    rows: SubscriberRow[],
  ): Promise<PageCounts> {
    // The transaction's own connection: COPY is a protocol of its own, which TypeORM's query()
    // does not speak.
    const client = (await manager.queryRunner!.connect()) as PoolClient;
    try {
      return { created: await copySubscriberPage(client, connectionId, rows), updated: 0 };
    } catch (error) {
      if (isUniqueViolation(error)) throw new InsertOnlyConflict();
      throw error;
    }
  }

  /**
   * The saved cursor cannot be used: the pass starts over. Clears the checkpoint and the run's
   * seen ids together (the new pass sees every subscriber again). The change counters stay: they
   * count what the run changed; the skip counters restart with the pass.
   */
  async restartPass(pass: SyncPass): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await this.fence(manager, pass, 'storePage');
      // Skips are counted again by the new pass (they describe the list as the run left it).
      await manager.query(
        `UPDATE sync_runs SET heartbeat_at = now(), skipped_count = 0, skip_reasons = '{}',
                seen_count = 0, seen_set_skipped = ${storesNothing('$2')}
          WHERE id = $1`,
        [pass.runId, pass.connectionId],
      );
      await manager.query(`DELETE FROM sync_seen_batches WHERE sync_run_id = $1`, [pass.runId]);
      await manager.query(
        `UPDATE esp_connections SET sync_checkpoint = NULL, updated_at = now() WHERE id = $1`,
        [pass.connectionId],
      );
    });
  }

  /**
   * The end of a complete pass, in one transaction: the fenced transition to `success` (refused
   * unless the stored checkpoint is this run's and reached the end of the list), then, for a full
   * pass only, ghosts (the connection's subscribers the run did not see) deleted and the seen ids
   * dropped (a pass that began on an empty connection has neither: storesNothing); the
   * connection `synced` with its watermark advanced to the ESP's clock at the pass's start (and,
   * for a full pass, `last_full_sync_at`), and today's (UTC) subscriber-count snapshot of the
   * connection written. An incremental pass never removes anything: what left the
   * ESP is only known to a full pass.
   */
  finish(pass: SyncPass): Promise<FinishedRun> {
    const full = pass.mode !== 'incremental';
    return this.dataSource.transaction(async (manager) => {
      const finished = rowsOf<{
        created_count: number;
        updated_count: number;
        seen_set_skipped: boolean;
      }>(
        await manager.query(
          `UPDATE sync_runs r
              SET status = 'success', pass_token = NULL, error_message = NULL,
                  completed_at = now(), heartbeat_at = now()
            WHERE r.id = $1 AND r.pass_token = $2 AND r.status = ANY($3::varchar[])
              AND EXISTS (SELECT 1 FROM esp_connections c
                           WHERE c.id = r.esp_connection_id
                             AND c.sync_checkpoint->>'syncRunId' = r.id::text
                             AND c.sync_checkpoint->'cursor' = 'null'::jsonb)
            RETURNING created_count, updated_count, seen_set_skipped`,
          [pass.runId, pass.token, fromStates('finish')],
        ),
      );
      if (finished.length === 0) {
        const state = await this.runState(manager, pass.runId);
        if (state.status === 'running' && state.passToken === pass.token) {
          throw new Error(
            `sync run ${pass.runId} cannot finish: its stored checkpoint is not at the end of ` +
              'the list, so removing unseen subscribers would be unsafe',
          );
        }
        throw new PassLostError(pass.runId, state.status);
      }
      let removed = 0;
      // Read from the run under the fence, not from `pass`: a restart of the pass clears it.
      if (full && !finished[0].seen_set_skipped) {
        const [seen] = rowsOf<{ kept: number; counted: number }>(
          await manager.query(
            `SELECT (SELECT COALESCE(sum(id_count), 0)::int FROM sync_seen_batches
                      WHERE sync_run_id = $1) AS kept,
                    seen_count AS counted
               FROM sync_runs WHERE id = $1`,
            [pass.runId],
          ),
        );
        if (seen.kept < seen.counted)
          throw new SeenSetLostError(pass.runId, seen.kept, seen.counted);
        [, removed] = await manager.query<[unknown, number]>(
          `DELETE FROM subscribers s
            WHERE s.esp_connection_id = $1
              AND NOT EXISTS (SELECT 1 FROM sync_seen_batches seen,
                                            json_array_elements_text(seen.external_ids) AS e(id)
                               WHERE seen.sync_run_id = $2 AND e.id = s.external_id)`,
          [pass.connectionId, pass.runId],
        );
      }
      await manager.query(`DELETE FROM sync_seen_batches WHERE sync_run_id = $1`, [pass.runId]);
      const [{ count }] = await manager.query<{ count: number }[]>(
        // Kept exact by the subscribers triggers in this same transaction: no scan of the list.
        `SELECT COALESCE(sum(count), 0)::int AS count FROM subscriber_counts
          WHERE esp_connection_id = $1`,
        [pass.connectionId],
      );
      await manager.query(
        `UPDATE sync_runs SET subscriber_count = $2, removed_count = $3 WHERE id = $1`,
        [pass.runId, count, removed],
      );
      // The watermark: the ESP's clock at the pass's first page (in the checkpoint), so the
      // next incremental pass asks for everything that changed while this one ran.
      await manager.query(
        `UPDATE esp_connections SET sync_status = 'synced', last_synced_at = now(),
                sync_watermark = COALESCE((sync_checkpoint->>'espClockAt')::timestamptz,
                                          sync_watermark),
                last_full_sync_at = CASE WHEN $2::boolean THEN now() ELSE last_full_sync_at END,
                sync_checkpoint = NULL, updated_at = now()
          WHERE id = $1`,
        [pass.connectionId, full],
      );
      await manager.query(
        `INSERT INTO subscriber_count_snapshots (user_id, esp_connection_id, day, subscriber_count)
         VALUES ($1, $2, (now() AT TIME ZONE 'UTC')::date, $3)
         ON CONFLICT (user_id, esp_connection_id, day) DO UPDATE
           SET subscriber_count = EXCLUDED.subscriber_count, updated_at = now()`,
        [pass.userId, pass.connectionId, count],
      );
      const [run] = finished;
      return {
        subscriberCount: count,
        created: run.created_count,
        updated: run.updated_count,
        removed,
      };
    });
  }

  /**
   * The owning pass fails the run for good. The checkpoint and seen ids stay, so an admin's retry
   * of the dead job resumes where it stopped. False when the pass no longer owned the run.
   */
  async failPass(pass: SyncPass, failure: RunFailure): Promise<boolean> {
    const failed = await this.failRuns([pass.runId], failure, {
      token: pass.token,
      states: fromStates('failPass'),
    });
    return failed > 0;
  }

  /**
   * Fails a run nothing drives any more (its job died outside the processor or was removed, no job
   * exists, it could not be enqueued, it ran past the maximum duration), whichever pass had it.
   * False when the run was already finished.
   */
  async reconcile(runId: string, failure: RunFailure): Promise<boolean> {
    const failed = await this.failRuns([runId], failure, {
      token: null,
      states: fromStates('reconcile'),
    });
    return failed > 0;
  }

  /**
   * Runs created for jobs that could not be enqueued (Redis refused the bulk add). Only runs still
   * `queued`: one a worker already started is left to its pass.
   */
  async reconcileUnqueued(runIds: string[], failure: RunFailure): Promise<void> {
    if (runIds.length === 0) return;
    await this.failRuns(runIds, failure, { token: null, states: ['queued'] });
  }

  /**
   * Unfinished runs with no page written for `staleAfterMs` (or ever, since created), or running
   * for longer than `maxDurationMs`: the ones the reaper checks against their jobs. Oldest first.
   */
  async findStale(options: {
    staleAfterMs: number;
    maxDurationMs: number;
    limit: number;
  }): Promise<StaleSyncRun[]> {
    const rows = await this.dataSource.query<
      {
        id: string;
        esp_connection_id: string;
        status: 'queued' | 'running';
        trigger: SyncTrigger;
        overdue: boolean;
        awaiting_outbox: boolean;
      }[]
    >(
      `SELECT r.id, r.esp_connection_id, r.status, r.trigger,
              (r.started_at IS NOT NULL
                AND r.started_at < now() - make_interval(secs => $2::double precision / 1000))
                AS overdue,
              EXISTS (SELECT 1 FROM outbox_events o
                       WHERE o.published_at IS NULL AND o.payload->>'syncRunId' = r.id::text)
                AS awaiting_outbox
         FROM sync_runs r
        WHERE r.status IN ('queued', 'running')
          AND (COALESCE(r.heartbeat_at, r.created_at)
                 < now() - make_interval(secs => $1::double precision / 1000)
               OR r.started_at < now() - make_interval(secs => $2::double precision / 1000))
        ORDER BY r.created_at
        LIMIT $3`,
      [options.staleAfterMs, options.maxDurationMs, options.limit],
    );
    return rows.map((row) => ({
      runId: row.id,
      connectionId: row.esp_connection_id,
      status: row.status,
      trigger: row.trigger,
      overdue: row.overdue,
      awaitingOutbox: row.awaiting_outbox,
    }));
  }

  /** The owning pass stops at a safe point (shutdown): the run waits again with its checkpoint. */
  async handBack(pass: SyncPass): Promise<boolean> {
    const rows = rowsOf<{ id: string }>(
      await this.dataSource.query(
        `UPDATE sync_runs SET status = 'queued', pass_token = NULL
          WHERE id = $1 AND pass_token = $2 AND status = ANY($3::varchar[])
          RETURNING id`,
        [pass.runId, pass.token, fromStates('handBack')],
      ),
    );
    return rows.length > 0;
  }

  /** Adds a rate-limit wait to the run's total and returns the new total (fenced). */
  async addRateLimitWait(pass: SyncPass, waitMs: number): Promise<number> {
    const rows = rowsOf<{ rate_limited_ms: string }>(
      await this.dataSource.query(
        `UPDATE sync_runs SET rate_limited_ms = rate_limited_ms + $3, heartbeat_at = now()
          WHERE id = $1 AND pass_token = $2 AND status = 'running'
          RETURNING rate_limited_ms`,
        [pass.runId, pass.token, Math.max(0, Math.round(waitMs))],
      ),
    );
    if (rows.length === 0) {
      throw new PassLostError(
        pass.runId,
        (await this.runState(this.dataSource.manager, pass.runId)).status,
      );
    }
    return Number(rows[0].rate_limited_ms);
  }

  /**
   * An admin retries a failed run's dead job: the run waits again (`queued`, its checkpoint kept,
   * so the next pass resumes from it) and the connection is `syncing`, in one transaction.
   */
  async resetForRetry(runId: string): Promise<ResetOutcome> {
    try {
      return await this.dataSource.transaction(async (manager) => {
        const [run] = await manager.query<
          {
            status: SyncRunStatus;
            esp_connection_id: string;
            user_id: string;
            trigger: SyncTrigger;
            connection_status: EspConnection['status'] | null;
          }[]
        >(
          `SELECT r.status, r.esp_connection_id, r.user_id, r.trigger, c.status AS connection_status
             FROM sync_runs r LEFT JOIN esp_connections c ON c.id = r.esp_connection_id
            WHERE r.id = $1`,
          [runId],
        );
        if (!run) return { kind: 'not-found' };
        if (run.connection_status !== 'active') {
          return { kind: 'connection-unavailable', status: run.connection_status };
        }
        const reset = rowsOf<{ id: string }>(
          await manager.query(
            `UPDATE sync_runs
                SET status = 'queued', error_message = NULL, completed_at = NULL,
                    pass_token = NULL, rate_limited_ms = 0, started_at = NULL
              WHERE id = $1 AND status = ANY($2::varchar[])
              RETURNING id`,
            [runId, fromStates('resetForRetry')],
          ),
        );
        if (reset.length === 0) {
          return {
            kind: 'not-failed',
            status: (await this.runState(manager, runId)).status ?? run.status,
          };
        }
        const marked = rowsOf<{ id: string }>(
          await manager.query(
            `UPDATE esp_connections SET sync_status = 'syncing', updated_at = now()
              WHERE id = $1 AND status = 'active' RETURNING id`,
            [run.esp_connection_id],
          ),
        );
        if (marked.length === 0) {
          throw new Abort<ResetOutcome>({ kind: 'connection-unavailable', status: null });
        }
        return {
          kind: 'reset',
          runId,
          connectionId: run.esp_connection_id,
          userId: run.user_id,
          trigger: run.trigger,
        };
      });
    } catch (error) {
      if (error instanceof Abort) return error.outcome as ResetOutcome;
      if (isUniqueViolation(error)) return { kind: 'busy' };
      throw error;
    }
  }

  /**
   * The connection is being deleted: its unfinished run fails (a running pass stops at its next
   * write) and the connection turns `disconnected`, run row first. False when there is no such
   * connection of the user.
   */
  async disconnect(userId: string, connectionId: string): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(
        `UPDATE sync_runs SET status = 'failed', error_message = $3, completed_at = now(),
                pass_token = NULL
          WHERE esp_connection_id = $1 AND user_id = $2 AND status = ANY($4::varchar[])`,
        [connectionId, userId, 'The connection was deleted', fromStates('reconcile')],
      );
      const rows = rowsOf<{ id: string }>(
        await manager.query(
          `UPDATE esp_connections SET status = 'disconnected', updated_at = now()
            WHERE id = $1 AND user_id = $2 RETURNING id`,
          [connectionId, userId],
        ),
      );
      return rows.length > 0;
    });
  }

  /** The ESP rejected the stored key on a live call: no sync until a new key is saved. */
  async markConnectionInvalid(userId: string, connectionId: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE esp_connections SET status = 'invalid', updated_at = now()
        WHERE id = $1 AND user_id = $2 AND status = 'active'`,
      [connectionId, userId],
    );
  }

  /** A freshly validated key was saved: the connection may sync again. */
  async markConnectionActive(userId: string, connectionId: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE esp_connections SET status = 'active', updated_at = now()
        WHERE id = $1 AND user_id = $2 AND status <> 'disconnected'`,
      [connectionId, userId],
    );
  }

  /**
   * Fails `runIds` that are in one of `states` (and owned by `token`, when given) with their
   * connections' sync state, run rows first, in one statement; returns how many it failed.
   */
  private async failRuns(
    runIds: string[],
    failure: RunFailure,
    fence: { token: string | null; states: string[] },
  ): Promise<number> {
    const rows = rowsOf<{ id: string; esp_type: EspType }>(
      await this.dataSource.query(
        `WITH failed AS (
           UPDATE sync_runs SET status = 'failed', error_message = $2, completed_at = now(),
                  pass_token = NULL
            WHERE id = ANY($1::uuid[]) AND status = ANY($5::varchar[])
              AND ($3::uuid IS NULL OR pass_token = $3::uuid)
            RETURNING esp_connection_id
         )
         UPDATE esp_connections c
            SET sync_status = 'error', updated_at = now(),
                status = CASE WHEN $4::boolean AND c.status = 'active' THEN 'invalid'
                              ELSE c.status END
           FROM failed WHERE c.id = failed.esp_connection_id
         RETURNING c.id, c.esp_type`,
        [runIds, failure.reason, fence.token, failure.invalidCredentials === true, fence.states],
      ),
    );
    for (const row of rows) this.failureObservers.forEach((observe) => observe(row.esp_type));
    return rows.length;
  }

  /**
   * Locks the run row for the pass (the lock an UPDATE would take, without writing a row version),
   * or throws PassLostError when the pass does not own it.
   */
  private async fence(
    manager: EntityManager,
    pass: SyncPass,
    transition: 'storePage',
  ): Promise<{ seenSetSkipped: boolean }> {
    const rows = await manager.query<{ seen_set_skipped: boolean }[]>(
      `SELECT seen_set_skipped FROM sync_runs
        WHERE id = $1 AND pass_token = $2 AND status = ANY($3::varchar[])
        FOR NO KEY UPDATE`,
      [pass.runId, pass.token, fromStates(transition)],
    );
    if (rows.length === 0) {
      throw new PassLostError(pass.runId, (await this.runState(manager, pass.runId)).status);
    }
    return { seenSetSkipped: rows[0].seen_set_skipped };
  }

  /** The run's status and owning pass, read after a guarded write matched nothing. */
  private async runState(
    manager: EntityManager,
    runId: string,
  ): Promise<{ status: SyncRunStatus | null; passToken: string | null }> {
    const [row] = await manager.query<{ status: SyncRunStatus; pass_token: string | null }[]>(
      `SELECT status, pass_token FROM sync_runs WHERE id = $1`,
      [runId],
    );
    return { status: row?.status ?? null, passToken: row?.pass_token ?? null };
  }

  private async whyNotCreated(
    manager: EntityManager,
    userId: string,
    connectionId: string,
  ): Promise<ManualSyncOutcome> {
    const connection = await manager.findOneBy(EspConnection, { id: connectionId, userId });
    if (!connection) return { kind: 'not-found' };
    if (connection.status !== 'active') return { kind: 'inactive', connection };
    const existing = await manager
      .getRepository(SyncRun)
      .createQueryBuilder('run')
      .where('run.espConnectionId = :connectionId AND run.userId = :userId', {
        connectionId,
        userId,
      })
      .andWhere(`run.status IN ('queued', 'running')`)
      .getOne();
    return existing ? { kind: 'existing', run: existing, connection } : { kind: 'raced' };
  }
}
