import { randomUUID } from 'node:crypto';
import { JOB, QUEUE } from '@subscribernest/shared';
import { waitFor } from '@subscribernest/testkit';
import { LegacyJobPayloadScrubber } from '../src/ops/legacy-job-payload.scrubber';
import { startTestWorker, TestWorker } from './support/test-worker';

/** What an email job looked like before issue 11: encrypted personal data in the payload. */
const legacyLoginCode = (loginCodeId: string) => ({
  loginCodeId,
  emailEncrypted: 'v1.k1.aaaa.bbbb',
  codeEncrypted: 'v1.k1.cccc.dddd',
  expiresAt: new Date(Date.now() + 600_000).toISOString(),
});

describe('jobs queued by an older release (real worker, Postgres, Redis)', () => {
  let worker: TestWorker;

  beforeAll(async () => {
    worker = await startTestWorker();
  });

  afterAll(async () => {
    await worker?.close();
  });

  it('keep only id fields, in any state, and a legacy login-code job sends nothing', async () => {
    const email = worker.queue(QUEUE.email);
    const finished = randomUUID();
    await email.add(JOB.loginCode, legacyLoginCode(finished), { jobId: finished });
    await waitFor(async () => (await email.getJob(finished))?.finishedOn !== undefined, {
      description: 'the legacy job to be processed',
    });
    expect((await email.getJob(finished))?.returnvalue).toEqual({
      status: 'refused',
      reason: 'missing',
    });
    const later = randomUUID();
    await email.add(
      JOB.signInNotification,
      {
        userId: randomUUID(),
        sessionId: later,
        emailEncrypted: 'v1.k1.eeee.ffff',
        ip: '203.0.113.9',
        userAgent: 'old-browser',
        signedInAt: new Date().toISOString(),
      },
      { jobId: later, delay: 3_600_000 },
    );

    const scrubber = worker.app.get(LegacyJobPayloadScrubber);
    expect(await scrubber.scrubAll()).toBe(2);
    expect((await email.getJob(finished))?.data).toEqual({ loginCodeId: finished });
    expect((await email.getJob(later))?.data).toEqual({
      userId: expect.any(String),
      sessionId: later,
    });
    // Idempotent: nothing left to rewrite.
    expect(await scrubber.scrubAll()).toBe(0);
  });
});
