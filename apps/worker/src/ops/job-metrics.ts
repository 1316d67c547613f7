import { Injectable } from '@nestjs/common';
import { counterOf, histogramOf, METRICS } from '@subscribernest/shared';

/**
 * The job counters and duration histogram, fed by JobAuditListener (the one place that sees every
 * attempt of every queue end): `completed`, `retried` (failed, BullMQ tries again) and `dead`
 * (failed for good); failed attempts are retried + dead.
 */
@Injectable()
export class JobMetrics {
  private readonly jobs = counterOf(METRICS.jobs);
  private readonly duration = histogramOf(METRICS.jobDuration);

  ended(
    queue: string,
    name: string,
    outcome: 'completed' | 'retried' | 'dead',
    durationMs: number | undefined,
  ): void {
    this.jobs.inc({ queue, name, outcome });
    if (durationMs !== undefined) this.duration.observe({ queue, name }, durationMs / 1000);
  }
}
