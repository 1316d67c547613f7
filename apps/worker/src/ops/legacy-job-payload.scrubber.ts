import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { describeJobError, JOB_QUEUES, strippedJobPayload } from '@subscribernest/shared';
import { JobType, Queue } from 'bullmq';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';

/** Every state a job can rest in; an `active` job is rewritten by its worker as it finishes. */
const RESTING_STATES: JobType[] = [
  'waiting',
  'prioritized',
  'delayed',
  'paused',
  'waiting-children',
  'completed',
  'failed',
];
const PAGE = 500;

/**
 * Releases before issue 11 put encrypted addresses, codes, IPs and user agents in email job
 * payloads, and Redis keeps finished jobs for days. On start-up each worker rewrites any job still
 * holding a field outside JOB_PAYLOAD_FIELDS to the allowed ones (a login-code job so rewritten is
 * refused by the worker: its code was never stored for it). Idempotent, so replicas may race;
 * in the background, so it never delays readiness; bounded by the queues' retention.
 */
@Injectable()
export class LegacyJobPayloadScrubber implements OnApplicationBootstrap {
  constructor(
    @Inject(JOB_QUEUES) private readonly queues: Queue[],
    @InjectPinoLogger(LegacyJobPayloadScrubber.name) private readonly logger: PinoLogger,
  ) {}

  onApplicationBootstrap(): void {
    void this.scrubAll();
  }

  async scrubAll(): Promise<number> {
    let total = 0;
    for (const queue of this.queues) {
      try {
        total += await this.scrub(queue);
      } catch (error) {
        this.logger.warn(
          { queue: queue.name, error: describeJobError(error) },
          'legacy job payloads: scan failed (the next start-up tries again)',
        );
      }
    }
    return total;
  }

  private async scrub(queue: Queue): Promise<number> {
    let rewritten = 0;
    // One state at a time: BullMQ pages each listed state by the same range.
    for (const state of RESTING_STATES) {
      for (let start = 0; ; start += PAGE) {
        const jobs = await queue.getJobs([state], start, start + PAGE - 1, true);
        for (const job of jobs) {
          const stripped = job ? strippedJobPayload(job.data) : null;
          if (!job || !stripped) continue;
          await job.updateData(stripped);
          rewritten += 1;
        }
        if (jobs.length < PAGE) break;
      }
    }
    if (rewritten > 0) {
      this.logger.info(
        { queue: queue.name, rewritten },
        'legacy job payloads: fields no payload may carry removed',
      );
    }
    return rewritten;
  }
}
