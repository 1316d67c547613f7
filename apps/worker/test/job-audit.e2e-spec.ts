import { randomUUID } from 'node:crypto';
import { JOB, JobPayloads, JobRun, QUEUE, registerQueues } from '@subscribernest/shared';
import { waitFor } from '@subscribernest/testkit';
import { Queue } from 'bullmq';
import { JobHandlers } from '../src/ops/job-handlers';
import { QueueProcessor, QueueWorker } from '../src/ops/queue-processor';
import { startTestWorker, TestWorker } from './support/test-worker';

const FAIL = '1970-01-01';

/**
 * A probe on a queue this worker has no processor for yet (`billing`; the `email` queue has its
 * real processor): a period starting on FAIL always fails, any other succeeds. The audit is
 * attached by the worker, not by this class.
 */
@QueueWorker(QUEUE.billing)
class AuditProbeProcessor extends QueueProcessor<typeof QUEUE.billing> {
  readonly queue = QUEUE.billing;
  readonly concurrencySetting = 'DOMAIN_EVENTS_CONCURRENCY';
  protected readonly handlers: JobHandlers<typeof QUEUE.billing> = {
    [JOB.closePeriod]: async ({ periodStart }) => {
      if (periodStart === FAIL) {
        throw new Error('SMTP 550: mailbox jane.doe@example.com unavailable');
      }
      return 'closed';
    },
  };
}

const closePeriod = (
  userId: string,
  periodStart = '2026-10-01',
): JobPayloads[typeof JOB.closePeriod] => ({ userId, periodStart });

describe('job_runs audit, written from worker events (real Postgres and Redis)', () => {
  let worker: TestWorker;
  let billing: Queue;

  beforeAll(async () => {
    worker = await startTestWorker({
      imports: [registerQueues(QUEUE.billing)],
      providers: [AuditProbeProcessor],
    });
    billing = worker.queue(QUEUE.billing);
  });

  afterAll(async () => {
    await worker?.close();
  });

  const runOf = (jobId: string, status: JobRun['status']) =>
    waitFor(
      async () => {
        const row = await worker.dataSource
          .getRepository(JobRun)
          .findOneBy({ queue: QUEUE.billing, jobId });
        return row?.status === status ? row : undefined;
      },
      { description: `billing job ${jobId} to be ${status}` },
    );

  it('records a completed job with its owner and timings', async () => {
    const userId = randomUUID();
    const jobId = randomUUID();
    const before = Date.now();
    await billing.add(JOB.closePeriod, closePeriod(userId), { jobId });

    const run = await runOf(jobId, 'completed');
    expect(run).toMatchObject({
      name: JOB.closePeriod,
      userId,
      attempts: 1,
      maxAttempts: 5,
      lastError: null,
    });
    expect(run.startedAt!.getTime()).toBeGreaterThanOrEqual(before - 1_000);
    expect(run.finishedAt!.getTime()).toBeGreaterThanOrEqual(run.startedAt!.getTime());
  });

  it('records each failed attempt, then dead after the last one, with a masked error', async () => {
    const userId = randomUUID();
    const jobId = randomUUID();
    await billing.add(JOB.closePeriod, closePeriod(userId, FAIL), {
      jobId,
      attempts: 2,
      backoff: 300,
    });

    const failed = await runOf(jobId, 'failed');
    expect(failed).toMatchObject({ attempts: 1, maxAttempts: 2, finishedAt: null });

    const dead = await runOf(jobId, 'dead');
    expect(dead).toMatchObject({
      name: JOB.closePeriod,
      attempts: 2,
      maxAttempts: 2,
      userId,
      lastError: 'Error: SMTP 550: mailbox j***@e***.com unavailable',
    });
    expect(dead.finishedAt).toBeInstanceOf(Date);
    expect(dead.startedAt).toEqual(failed.startedAt);
  });
});
