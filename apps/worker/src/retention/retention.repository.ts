import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** The tables the data-retention cron prunes. */
export const RETENTION_TABLES = [
  'login_codes',
  'sessions',
  'outbox_events',
  'job_runs',
  'cron_runs',
  'admin_actions',
  'stripe_webhook_events',
] as const;
export type RetentionTable = (typeof RETENTION_TABLES)[number];

/** `$1` is the table's retention in days. */
const CUTOFF = `now() - make_interval(days => $1::int)`;

/**
 * Which rows of each table are past their retention: only rows in a final state, aged by the
 * moment they became final. Status lists are literals (not parameters) so the planner can use the
 * partial indexes of migration 1796200000000, whose predicates they imply.
 */
export const PAST_RETENTION: Record<RetentionTable, string> = {
  // Every code is dead 10 minutes after it was issued; the whole row goes, requester IP included.
  login_codes: `login_codes.created_at < ${CUTOFF}`,
  sessions: `(sessions.expires_at < ${CUTOFF} OR sessions.revoked_at < ${CUTOFF})`,
  // Unpublished events are the sweeper's backlog: never pruned.
  outbox_events: `outbox_events.published_at < ${CUTOFF}`,
  // Only final jobs: never queued, active or delayed ones, nor a `failed` one (an attempt that
  // failed and will be retried, not an outcome).
  job_runs: `job_runs.status IN ('completed', 'dead') AND job_runs.updated_at < ${CUTOFF}`,
  // Only completed ticks: never a running one (its lease may be live, or it awaits recovery) nor
  // a failed one (it waits for an admin's re-run, POST /admin/cron-runs/:id/rerun, which claims
  // the same row). Each cron's newest scheduled tick stays whatever its age: it is what tells the
  // start-up catch-up the tick ran (a monthly cron's tick is up to 31 days old when its next one
  // comes).
  cron_runs: `cron_runs.status = 'completed' AND cron_runs.finished_at < ${CUTOFF}
    AND (cron_runs.trigger = 'manual' OR EXISTS (
      SELECT 1 FROM cron_runs AS newer
       WHERE newer.name = cron_runs.name AND newer.tick > cron_runs.tick
         AND newer.trigger <> 'manual'))`,
  // The audit trail: by creation. A row still `pending` this old is an attempt that crashed.
  admin_actions: `admin_actions.created_at < ${CUTOFF}`,
  // The webhook's replay ledger: Stripe retries a delivery for 3 days; an event replayed after
  // its row went is still refused by the stored state's event time (it is older).
  stripe_webhook_events: `stripe_webhook_events.received_at < ${CUTOFF}`,
};

/** Expired login codes still holding the ciphertext of their code (waiting to be mailed). */
export const EXPIRED_CIPHERTEXT = `login_codes.code_encrypted IS NOT NULL AND login_codes.expires_at < now()`;

/**
 * The statements of the data-retention cron. Each touches at most `limit` rows, in its own
 * (autocommit) transaction, so a backlog of millions never holds one long transaction or lock; the
 * caller loops until a batch comes back short.
 *
 * A batch picks its rows by id with `FOR UPDATE SKIP LOCKED` (a row another transaction is writing
 * waits for the next batch, or the next day), and the outer statement re-states the condition, so
 * a row that changed after it was picked (a dead job retried, say) is re-checked on its new
 * version and left alone when it no longer qualifies.
 */
@Injectable()
export class RetentionRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Clears `code_encrypted` on up to `limit` expired codes; returns how many. */
  async clearExpiredCiphertexts(limit: number): Promise<number> {
    const [, affected] = await this.dataSource.query<[unknown, number]>(
      `UPDATE login_codes SET code_encrypted = NULL
        WHERE login_codes.id = ANY(ARRAY(
                SELECT login_codes.id FROM login_codes
                 WHERE ${EXPIRED_CIPHERTEXT}
                 LIMIT $1
                   FOR UPDATE SKIP LOCKED))
          AND ${EXPIRED_CIPHERTEXT}`,
      [limit],
    );
    return affected;
  }

  /** Deletes up to `limit` rows of `table` past `days` of retention; returns how many. */
  async deleteExpired(table: RetentionTable, days: number, limit: number): Promise<number> {
    const expired = PAST_RETENTION[table];
    const [, affected] = await this.dataSource.query<[unknown, number]>(
      `DELETE FROM ${table}
        WHERE ${table}.id = ANY(ARRAY(
                SELECT ${table}.id FROM ${table}
                 WHERE ${expired}
                 LIMIT $2
                   FOR UPDATE SKIP LOCKED))
          AND ${expired}`,
      [days, limit],
    );
    return affected;
  }
}
