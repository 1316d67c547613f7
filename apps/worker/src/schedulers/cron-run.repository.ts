import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { CronRun, CronRunTrigger } from '@subscribernest/shared';
import { Repository } from 'typeorm';

/** An attempt's hold on a tick: its row and the token that fences its writes. */
export interface CronLease {
  id: string;
  token: string;
  attempt: number;
  /** The trigger the row was first claimed with (a re-run keeps it). */
  trigger: CronRunTrigger;
}

/** When a tick already claimed may be claimed again. */
export interface TakeoverRules {
  maxAttempts: number;
  retryDelayMs: number;
  /** An admin's re-run: a failed tick is taken however many attempts it had or how recent. */
  force?: boolean;
}

/** A tick that needs another attempt. */
export interface RecoverableTick {
  id: string;
  name: string;
  tick: Date;
  trigger: CronRunTrigger;
  status: 'running' | 'failed';
  attempts: number;
}

/**
 * Whether an existing row may be claimed: `running` with its lease lapsed (its worker died; a row
 * from before leases has none), or `failed` and due for another attempt. The arguments are the
 * placeholders of the force flag, the maximum attempts and the retry delay in ms.
 */
function recoverable(force: string, maxAttempts: string, retryDelayMs: string): string {
  return `(
    (cron_runs.status = 'running'
      AND (cron_runs.lease_expires_at IS NULL OR cron_runs.lease_expires_at < now()))
    OR (cron_runs.status = 'failed'
      AND (${force}::boolean
        OR (cron_runs.attempts < ${maxAttempts}
          AND cron_runs.finished_at
            <= now() - make_interval(secs => ${retryDelayMs}::double precision / 1000)))))`;
}

/**
 * Queries on `cron_runs`: the leased claim of a cron tick (first claim or takeover of a dead or
 * failed attempt), its heartbeat, its fenced outcome, and the scan for ticks to run again.
 */
@Injectable()
export class CronRunRepository {
  constructor(@InjectRepository(CronRun) private readonly runs: Repository<CronRun>) {}

  /**
   * Claims (name, tick) for `leaseMs`: inserts its row, or takes over the existing row when the
   * rules allow, with a new token and one more attempt. Null when the row exists and is owned or
   * done. One statement, so of any number of concurrent claims exactly one wins.
   */
  async claim(
    name: string,
    tick: Date,
    trigger: CronRunTrigger,
    claimedBy: string,
    leaseMs: number,
    rules: TakeoverRules,
  ): Promise<CronLease | null> {
    const rows = await this.runs.query<CronLease[]>(
      `INSERT INTO cron_runs
         (name, tick, trigger, status, claimed_by, started_at, lease_token, lease_expires_at, attempts)
       VALUES ($1, $2, $3, 'running', $4, now(), gen_random_uuid(),
               now() + make_interval(secs => $8::double precision / 1000), 1)
       ON CONFLICT (name, tick) DO UPDATE SET
         status = 'running',
         claimed_by = EXCLUDED.claimed_by,
         started_at = now(),
         finished_at = NULL,
         lease_token = EXCLUDED.lease_token,
         lease_expires_at = EXCLUDED.lease_expires_at,
         attempts = cron_runs.attempts + 1
       WHERE ${recoverable('$5', '$6', '$7')}
       RETURNING id, lease_token AS token, attempts AS attempt, trigger`,
      [
        name,
        tick,
        trigger,
        claimedBy,
        rules.force ?? false,
        rules.maxAttempts,
        rules.retryDelayMs,
        leaseMs,
      ],
    );
    return rows[0] ?? null;
  }

  /** Extends the lease; false when the attempt no longer owns the tick. */
  async heartbeat(lease: CronLease, leaseMs: number): Promise<boolean> {
    const [, affected] = await this.runs.query<[unknown, number]>(
      `UPDATE cron_runs
          SET lease_expires_at = now() + make_interval(secs => $3::double precision / 1000)
        WHERE id = $1 AND lease_token = $2 AND status = 'running'`,
      [lease.id, lease.token, leaseMs],
    );
    return affected === 1;
  }

  /** Records the outcome; false (nothing written) when the attempt lost the tick. */
  async complete(lease: CronLease, counts: { queued: number; skipped: number }): Promise<boolean> {
    const [, affected] = await this.runs.query<[unknown, number]>(
      `UPDATE cron_runs
          SET status = 'completed', queued_count = $3, skipped_count = $4, error = NULL,
              finished_at = now(), lease_expires_at = NULL
        WHERE id = $1 AND lease_token = $2 AND status = 'running'`,
      [lease.id, lease.token, counts.queued, counts.skipped],
    );
    return affected === 1;
  }

  /** Records the failure; false (nothing written) when the attempt lost the tick. */
  async fail(lease: CronLease, error: string): Promise<boolean> {
    const [, affected] = await this.runs.query<[unknown, number]>(
      `UPDATE cron_runs
          SET status = 'failed', error = $3, finished_at = now(), lease_expires_at = NULL
        WHERE id = $1 AND lease_token = $2 AND status = 'running'`,
      [lease.id, lease.token, error],
    );
    return affected === 1;
  }

  /** Ticks due for another attempt under `rules`, oldest first. */
  findRecoverable(rules: TakeoverRules, limit: number): Promise<RecoverableTick[]> {
    return this.runs.query<RecoverableTick[]>(
      `SELECT id, name, tick, trigger, status, attempts
         FROM cron_runs
        WHERE status IN ('running', 'failed') AND ${recoverable('$1', '$2', '$3')}
        ORDER BY tick
        LIMIT $4`,
      [rules.force ?? false, rules.maxAttempts, rules.retryDelayMs, limit],
    );
  }

  findById(id: string): Promise<CronRun | null> {
    return this.runs.findOneBy({ id });
  }

  findByTick(name: string, tick: Date): Promise<CronRun | null> {
    return this.runs.findOneBy({ name, tick });
  }
}
