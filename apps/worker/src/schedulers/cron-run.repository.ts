import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { CronRun, CronRunTrigger } from '@subscribernest/shared';
import { Repository } from 'typeorm';

/** Queries on `cron_runs`: the claim of a cron tick, its outcome, and the catch-up record. */
@Injectable()
export class CronRunRepository {
  constructor(@InjectRepository(CronRun) private readonly runs: Repository<CronRun>) {}

  /**
   * Inserts the row of (name, tick) and returns its id, or null when the row already exists: the
   * unique (name, tick) index makes exactly one of any number of concurrent claims win.
   */
  async claim(
    name: string,
    tick: Date,
    trigger: CronRunTrigger,
    claimedBy: string,
  ): Promise<string | null> {
    const rows = await this.runs.query<{ id: string }[]>(
      `INSERT INTO cron_runs (name, tick, trigger, status, claimed_by, started_at)
       VALUES ($1, $2, $3, 'running', $4, now())
       ON CONFLICT (name, tick) DO NOTHING
       RETURNING id`,
      [name, tick, trigger, claimedBy],
    );
    return rows[0]?.id ?? null;
  }

  async complete(id: string, counts: { queued: number; skipped: number }): Promise<void> {
    await this.runs.update(id, {
      status: 'completed',
      queuedCount: counts.queued,
      skippedCount: counts.skipped,
      error: null,
      finishedAt: () => 'now()',
    });
  }

  async fail(id: string, error: string): Promise<void> {
    await this.runs.update(id, { status: 'failed', error, finishedAt: () => 'now()' });
  }

  findByTick(name: string, tick: Date): Promise<CronRun | null> {
    return this.runs.findOneBy({ name, tick });
  }
}
