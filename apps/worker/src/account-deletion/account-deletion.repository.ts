import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

const FIRST_ID = '00000000-0000-0000-0000-000000000000';

/** A user whose deletion request is past the grace period. */
export interface DueDeletion {
  userId: string;
  requestedAt: Date;
}

/** What the locked re-check of a request found. */
export type RequestCheck =
  | { state: 'gone' }
  | { state: 'withdrawn' }
  | { state: 'syncing'; runs: number }
  | { state: 'confirmed'; connectionIds: string[]; email: string };

/**
 * The tables an account deletion empties of one user's rows, in the order it deletes them: every
 * child before its parent, the user last, so a deletion stopped half-way leaves the `users` row
 * (and its pending request) for the retried job to find. Each step is a bounded batch statement
 * the caller repeats until it comes back short.
 */
export const ACCOUNT_DELETION_STEPS = [
  'subscribers',
  'sync_seen_batches',
  'sync_seen_subscribers',
  'job_runs',
  'sync_runs',
  'subscriber_count_snapshots',
  'outbox_events',
  'esp_connections',
  'sessions',
  'login_codes',
  'billing_periods',
  'billing_accounts',
  'users',
] as const;
export type AccountDeletionStep = (typeof ACCOUNT_DELETION_STEPS)[number];

/** The owner of a deletion: the user's id, connection ids and sign-in address (never logged). */
export interface DeletionTarget {
  userId: string;
  connectionIds: string[];
  email: string;
}

/**
 * Which rows of each step belong to the account. `$1` is the user id, `$2` its connection ids,
 * `$3` its address. A step's predicate must not depend on a table an earlier step emptied, except
 * through ids read before the deletion started (`$2`).
 */
const OWNED: Record<AccountDeletionStep, { key: string; where: string }> = {
  subscribers: { key: 'id', where: 'esp_connection_id = ANY($2::uuid[])' },
  sync_seen_batches: {
    key: 'id',
    where: 'sync_run_id IN (SELECT id FROM sync_runs WHERE user_id = $1)',
  },
  // Written only by the workers of the version before sync_seen_batches (a rollout's leftovers).
  sync_seen_subscribers: {
    key: 'ctid',
    where: 'sync_run_id IN (SELECT id FROM sync_runs WHERE user_id = $1)',
  },
  // Audit rows of the user's jobs: those whose payload named the user (user_id), and the jobs
  // whose id is one of the user's rows (sync runs, login codes), which carry no user id.
  job_runs: {
    key: 'id',
    where: `user_id = $1
         OR (queue = 'subscriber-sync'
             AND job_id IN (SELECT id::text FROM sync_runs WHERE user_id = $1))
         OR (queue = 'email' AND name = 'login-code'
             AND job_id IN (SELECT id::text FROM login_codes WHERE lower(email) = lower($3)))`,
  },
  sync_runs: { key: 'id', where: 'user_id = $1 OR esp_connection_id = ANY($2::uuid[])' },
  subscriber_count_snapshots: { key: 'id', where: 'user_id = $1' },
  outbox_events: {
    key: 'id',
    where: `payload->>'userId' = $1::text
         OR payload->>'espConnectionId' IN (SELECT c::text FROM unnest($2::uuid[]) AS c)`,
  },
  esp_connections: { key: 'id', where: 'user_id = $1' },
  sessions: { key: 'id', where: 'user_id = $1' },
  login_codes: { key: 'id', where: 'lower(email) = lower($3)' },
  billing_periods: { key: 'id', where: 'user_id = $1' },
  billing_accounts: { key: 'id', where: 'user_id = $1' },
  users: { key: 'id', where: 'id = $1' },
};

/** The statements of the account-deletion cron and of its `delete-account` processor. */
@Injectable()
export class AccountDeletionRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The next `limit` users (id order, after `afterId`) whose request is older than `graceDays`. */
  async dueAfter(afterId: string | null, limit: number, graceDays: number): Promise<DueDeletion[]> {
    const rows = await this.dataSource.query<{ id: string; delete_requested_at: Date }[]>(
      `SELECT id, delete_requested_at FROM users
        WHERE delete_requested_at IS NOT NULL
          AND delete_requested_at <= now() - make_interval(days => $3::int)
          AND id > $1
        ORDER BY id
        LIMIT $2`,
      [afterId ?? FIRST_ID, limit, graceDays],
    );
    return rows.map((row) => ({ userId: row.id, requestedAt: row.delete_requested_at }));
  }

  /**
   * Re-checks the request under the user's row lock (FOR UPDATE: a withdrawal, which updates the
   * row, waits for this check or is seen by it): `withdrawn` when the request is gone or is not
   * the one the job was queued for (compared to the millisecond, the precision the job carries)
   * and no deletion has started, `syncing` while a sync of the account is queued or running, else
   * marks the deletion started and answers the ids to delete by.
   */
  async lockAndCheck(userId: string, requestedAt: Date): Promise<RequestCheck> {
    return this.dataSource.transaction(async (manager) => {
      const [user] = await manager.query<
        { email: string; same_request: boolean | null; started: boolean }[]
      >(
        `SELECT email,
                date_trunc('milliseconds', delete_requested_at) = $2::timestamptz AS same_request,
                deletion_started_at IS NOT NULL AS started
           FROM users WHERE id = $1
            FOR UPDATE`,
        [userId, requestedAt.toISOString()],
      );
      if (!user) return { state: 'gone' };
      // A deletion already under way is finished whatever happened since (the api refuses a
      // cancel from then on); before that, a withdrawn or renewed request deletes nothing.
      if (!user.started && !user.same_request) return { state: 'withdrawn' };
      const [{ running }] = await manager.query<{ running: number }[]>(
        `SELECT count(*)::int AS running FROM sync_runs
          WHERE status IN ('queued', 'running')
            AND (user_id = $1
                 OR esp_connection_id IN (SELECT id FROM esp_connections WHERE user_id = $1))`,
        [userId],
      );
      if (running > 0) return { state: 'syncing', runs: running };
      // Committed with this check, under the same lock: from here on the deletion cannot be
      // cancelled, so a retry after a crash finishes it instead of leaving half an account.
      await manager.query(
        `UPDATE users SET deletion_started_at = COALESCE(deletion_started_at, now()) WHERE id = $1`,
        [userId],
      );
      const connections = await manager.query<{ id: string }[]>(
        `SELECT id FROM esp_connections WHERE user_id = $1 ORDER BY id`,
        [userId],
      );
      return {
        state: 'confirmed',
        connectionIds: connections.map((row) => row.id),
        email: user.email,
      };
    });
  }

  /**
   * Deletes at most `limit` of the account's rows of `step` in one (autocommit) statement; returns
   * how many (fewer than `limit`: the step is done). No sync of the account runs by then, so
   * nothing else writes these rows; a row locked anyway is waited for, never skipped. The params
   * CTE types every parameter, whichever of them the step's predicate uses.
   */
  async deleteBatch(
    step: AccountDeletionStep,
    target: DeletionTarget,
    limit: number,
  ): Promise<number> {
    const { key, where } = OWNED[step];
    const [, affected] = await this.dataSource.query<[unknown, number]>(
      `WITH params AS (SELECT $1::uuid, $2::uuid[], $3::text, $4::int)
       DELETE FROM ${step}
        WHERE ${key} = ANY(ARRAY(SELECT ${key} FROM ${step} WHERE ${where} LIMIT $4))`,
      [target.userId, target.connectionIds, target.email, limit],
    );
    return affected;
  }
}
