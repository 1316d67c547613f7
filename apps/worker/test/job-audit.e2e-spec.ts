import { JOB, JobPayloads, JobRun, QUEUE } from '@subscribernest/shared';
import { FakeSmtpServer, waitFor } from '@subscribernest/testkit';
import { Queue } from 'bullmq';
import { insertSignIn } from './support/email-rows';
import { startTestWorker, TestWorker } from './support/test-worker';

/**
 * The audit is attached by QueueWorkersService to every worker, not written by processors: seen
 * here through the real `email` processor against a fake SMTP server that can be told to fail.
 */
describe('job_runs audit, written from worker events (real Postgres and Redis)', () => {
  let smtp: FakeSmtpServer;
  let worker: TestWorker;
  let email: Queue;

  beforeAll(async () => {
    smtp = await FakeSmtpServer.start();
    worker = await startTestWorker({ env: { SMTP_URL: smtp.url } });
    email = worker.queue(QUEUE.email);
  });

  afterAll(async () => {
    await worker?.close();
    await smtp?.stop();
  });

  /** A sign-in (user and session rows) and the notification job naming it. */
  const notification = (address: string): Promise<JobPayloads[typeof JOB.signInNotification]> =>
    insertSignIn(worker.dataSource, { email: address });

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
    const payload = await notification('audit-ok@example.com');
    const before = Date.now();
    await email.add(JOB.signInNotification, payload, { jobId: payload.sessionId });

    const run = await runOf(payload.sessionId, 'completed');
    expect(run).toMatchObject({
      name: JOB.signInNotification,
      userId: payload.userId,
      attempts: 1,
      maxAttempts: 5,
      lastError: null,
      delayedUntil: null,
    });
    expect(run.startedAt!.getTime()).toBeGreaterThanOrEqual(before - 1_000);
    expect(run.finishedAt!.getTime()).toBeGreaterThanOrEqual(run.startedAt!.getTime());
  });

  it('records each failed attempt, then dead after the last one, with no address in the error', async () => {
    const address = 'jane.doe@example.com';
    const payload = await notification(address);
    smtp.failNext(2, 451);
    await email.add(JOB.signInNotification, payload, {
      jobId: payload.sessionId,
      attempts: 2,
      backoff: 300,
    });

    const failed = await runOf(payload.sessionId, 'failed');
    expect(failed).toMatchObject({ attempts: 1, maxAttempts: 2, finishedAt: null });

    const dead = await runOf(payload.sessionId, 'dead');
    expect(dead).toMatchObject({
      name: JOB.signInNotification,
      attempts: 2,
      maxAttempts: 2,
      userId: payload.userId,
    });
    expect(dead.lastError).toContain('451');
    expect(dead.lastError).not.toContain(address);
    expect(dead.finishedAt).toBeInstanceOf(Date);
    expect(dead.startedAt).toEqual(failed.startedAt);
  });
});
