import { randomUUID } from 'node:crypto';
import { JOB, JobPayloads, JobRun, QUEUE, registerQueues } from '@subscribernest/shared';
import { waitFor } from '@subscribernest/testkit';
import { Queue } from 'bullmq';
import { JobHandlers } from '../src/ops/job-handlers';
import { QueueProcessor, QueueWorker } from '../src/ops/queue-processor';
import { startTestWorker, TestWorker } from './support/test-worker';

/**
 * Stands in for the email processor (a later issue): delivery of a login code always fails, a
 * sign-in notification always succeeds. The audit is attached by the worker, not by this class.
 */
@QueueWorker(QUEUE.email)
class EmailProbeProcessor extends QueueProcessor<typeof QUEUE.email> {
  readonly queue = QUEUE.email;
  readonly concurrencySetting = 'DOMAIN_EVENTS_CONCURRENCY';
  protected readonly handlers: JobHandlers<typeof QUEUE.email> = {
    [JOB.loginCode]: async () => {
      throw new Error('SMTP 550: mailbox jane.doe@example.com unavailable');
    },
    [JOB.signInNotification]: async () => 'sent',
  };
}

const loginCode = (): JobPayloads[typeof JOB.loginCode] => ({
  loginCodeId: randomUUID(),
  emailEncrypted: 'v1.k.iv.ct',
  codeEncrypted: 'v1.k.iv.ct',
  expiresAt: new Date().toISOString(),
});

const signIn = (userId: string): JobPayloads[typeof JOB.signInNotification] => ({
  userId,
  sessionId: randomUUID(),
  emailEncrypted: 'v1.k.iv.ct',
  signedInAt: new Date().toISOString(),
  ip: null,
  userAgent: null,
});

describe('job_runs audit, written from worker events (real Postgres and Redis)', () => {
  let worker: TestWorker;
  let email: Queue;

  beforeAll(async () => {
    worker = await startTestWorker({
      imports: [registerQueues(QUEUE.email)],
      providers: [EmailProbeProcessor],
    });
    email = worker.queue(QUEUE.email);
  });

  afterAll(async () => {
    await worker?.close();
  });

  const runOf = (jobId: string, status: JobRun['status']) =>
    waitFor(
      async () => {
        const row = await worker.dataSource
          .getRepository(JobRun)
          .findOneBy({ queue: QUEUE.email, jobId });
        return row?.status === status ? row : undefined;
      },
      { description: `email job ${jobId} to be ${status}` },
    );

  it('records a completed job with its owner and timings', async () => {
    const userId = randomUUID();
    const jobId = randomUUID();
    const before = Date.now();
    await email.add(JOB.signInNotification, signIn(userId), { jobId });

    const run = await runOf(jobId, 'completed');
    expect(run).toMatchObject({
      name: JOB.signInNotification,
      userId,
      attempts: 1,
      maxAttempts: 5,
      lastError: null,
    });
    expect(run.startedAt!.getTime()).toBeGreaterThanOrEqual(before - 1_000);
    expect(run.finishedAt!.getTime()).toBeGreaterThanOrEqual(run.startedAt!.getTime());
  });

  it('records each failed attempt, then dead after the last one, with a masked error', async () => {
    const jobId = randomUUID();
    await email.add(JOB.loginCode, loginCode(), { jobId, attempts: 2, backoff: 300 });

    const failed = await runOf(jobId, 'failed');
    expect(failed).toMatchObject({ attempts: 1, maxAttempts: 2, finishedAt: null });

    const dead = await runOf(jobId, 'dead');
    expect(dead).toMatchObject({
      name: JOB.loginCode,
      attempts: 2,
      maxAttempts: 2,
      userId: null,
      lastError: 'Error: SMTP 550: mailbox j***@e***.com unavailable',
    });
    expect(dead.finishedAt).toBeInstanceOf(Date);
    expect(dead.startedAt).toEqual(failed.startedAt);
  });
});
