import { Injectable } from '@nestjs/common';
import { DelayedError, Job, WaitingError } from 'bullmq';
import { JobAuditListener } from './job-audit.listener';

/** The last error of a job handed back because shutdown's drain time was up. */
export const SHUTDOWN_HANDBACK_REASON =
  'handed back to the queue on shutdown: the drain time was up before the job finished';

/**
 * Hand-back on shutdown, and delay. SIGTERM lets active jobs finish; once the drain time is up
 * (JOB_DRAIN_TIMEOUT_MS, QueueWorkersService calls `request()`), a job that can stop at a safe
 * point (a subscriber sync, between two committed pages) checks `requested` there and returns
 * `await handBack(job, token, reason)` as its error: the job goes straight back to wait (no attempt
 * used, no lock left to expire), another worker resumes it at once, and this process still exits 0
 * before the shutdown watchdog. The audit row goes back to `queued` with the reason. `delay()` is
 * the same for a job that puts itself off (a sync waiting out a 429): the row is `delayed`.
 */
@Injectable()
export class JobHandback {
  private handBackRequested = false;

  constructor(private readonly audit: JobAuditListener) {}

  /** True once shutdown has asked active jobs to stop at their next safe point. */
  get requested(): boolean {
    return this.handBackRequested;
  }

  request(): void {
    this.handBackRequested = true;
  }

  /**
   * Moves the active `job` back to wait and returns the error its processor must throw so that
   * BullMQ neither completes nor fails it.
   */
  async handBack(
    job: Job,
    token: string | undefined,
    reason = SHUTDOWN_HANDBACK_REASON,
  ): Promise<WaitingError> {
    if (!token) throw new Error('cannot hand back a job without its lock token');
    await job.moveToWait(token);
    this.audit.handedBack(job.queueName, String(job.id), reason);
    return new WaitingError(reason);
  }

  /**
   * Puts the active `job` off until `until` (no attempt used) and returns the error its processor
   * must throw so that BullMQ neither completes nor fails it. The audit row is `delayed` first.
   */
  async delay(
    job: Job,
    token: string | undefined,
    until: Date,
    reason: string,
  ): Promise<DelayedError> {
    if (!token) throw new Error('cannot delay a job without its lock token');
    await this.audit.delayed(job.queueName, String(job.id), until, reason);
    await job.moveToDelayed(until.getTime(), token);
    return new DelayedError(reason);
  }
}
