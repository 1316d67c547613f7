import { EVENT, JOB, QUEUE, SyncRequestedPayload } from '@subscribernest/shared';
import { Job, UnrecoverableError } from 'bullmq';
import { dispatch, JobHandlers } from './job-handlers';

const payload: SyncRequestedPayload = {
  eventId: 'e1',
  espConnectionId: 'c1',
  userId: 'u1',
  syncRunId: 'r1',
  requestedAt: '2025-01-01T00:00:00.000Z',
};

function jobNamed(name: string, data: unknown = payload): Job {
  return { name, data } as unknown as Job;
}

describe('dispatch', () => {
  it('runs the handler of the job name with the payload, the job and the lock token', async () => {
    const seen: unknown[] = [];
    const handlers: JobHandlers<typeof QUEUE.domainEvents> = {
      [EVENT.syncRequested]: async (data, job, token) => {
        seen.push(data.syncRunId, job.name, token);
        return 'done';
      },
    };
    await expect(
      dispatch(QUEUE.domainEvents, handlers, jobNamed(EVENT.syncRequested), 'token-1'),
    ).resolves.toBe('done');
    expect(seen).toEqual(['r1', EVENT.syncRequested, 'token-1']);
  });

  it('fails an unknown job name with an UnrecoverableError (retrying cannot help)', async () => {
    const handlers: JobHandlers<typeof QUEUE.domainEvents> = {
      [EVENT.syncRequested]: async () => undefined,
    };
    const run = dispatch(QUEUE.domainEvents, handlers, jobNamed('no-such-event'));
    await expect(run).rejects.toBeInstanceOf(UnrecoverableError);
    await expect(run).rejects.toThrow(
      'No handler for job "no-such-event" on queue "domain-events"',
    );
    // Inherited object keys are not handlers.
    await expect(
      dispatch(QUEUE.domainEvents, handlers, jobNamed('constructor')),
    ).rejects.toBeInstanceOf(UnrecoverableError);
  });

  it('makes a missing or foreign job name a compile error', () => {
    // @ts-expect-error: the email queue also carries sign-in-notification, which has no handler.
    const missing: JobHandlers<typeof QUEUE.email> = {
      [JOB.loginCode]: async () => undefined,
    };
    const foreign: JobHandlers<typeof QUEUE.schedulerTicks> = {
      [JOB.runCron]: async () => undefined,
      [JOB.rerunCronTick]: async () => undefined,
      // @ts-expect-error: login-code belongs to another queue.
      [JOB.loginCode]: async () => undefined,
    };
    expect(Object.keys(missing)).toEqual([JOB.loginCode]);
    expect(Object.keys(foreign)).toHaveLength(3);
  });
});
