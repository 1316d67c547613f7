import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import {
  DomainEventPayloads,
  EVENT,
  JOB,
  JobPayloads,
  JobRun,
  QUEUE,
  SyncRequestedEvent,
} from '@subscribernest/shared';
import { waitFor } from '@subscribernest/testkit';
import { Queue } from 'bullmq';
import { startTestWorker, TestWorker } from './support/test-worker';

type SyncRequested = DomainEventPayloads[typeof EVENT.syncRequested];

/** Fails the first delivery of each event it sees: a transient error in some handler. */
@Injectable()
class FlakyListener {
  readonly seen = new Map<string, number>();

  @OnEvent(SyncRequestedEvent.eventName, { suppressErrors: false })
  handle(event: SyncRequestedEvent): void {
    if (!(event instanceof SyncRequestedEvent)) throw new Error('not hydrated');
    const count = (this.seen.get(event.eventId) ?? 0) + 1;
    this.seen.set(event.eventId, count);
    if (event.userId === FLAKY_USER && count === 1) throw new Error('transient failure');
  }
}

const FLAKY_USER = '00000000-0000-4000-8000-00000000f1a6';

function syncRequested(overrides: Partial<SyncRequested> = {}): SyncRequested {
  return {
    eventId: randomUUID(),
    espConnectionId: randomUUID(),
    userId: randomUUID(),
    syncRunId: randomUUID(),
    requestedAt: new Date().toISOString(),
    ...overrides,
  };
}

describe('domain events → sync-publication (real Postgres and Redis)', () => {
  let worker: TestWorker;
  let events: Queue<SyncRequested>;
  let syncQueue: Queue<JobPayloads[typeof JOB.syncPublication]>;

  beforeAll(async () => {
    worker = await startTestWorker({ providers: [FlakyListener] });
    events = worker.queue(QUEUE.domainEvents);
    syncQueue = worker.queue(QUEUE.subscriberSync);
  });

  afterAll(async () => {
    await worker?.close();
  });

  const auditOf = (queue: string, jobId: string) =>
    worker.dataSource.getRepository(JobRun).findOneBy({ queue, jobId });

  const completed = (jobId: string) =>
    waitFor(async () => (await auditOf(QUEUE.domainEvents, jobId))?.status === 'completed', {
      description: `domain-events job ${jobId} to complete`,
    });

  it('turns one SyncRequestedEvent into one sync-publication job with id = syncRunId, even when delivered twice', async () => {
    const event = syncRequested();
    // Published twice under its event id (the relay and the sweeper racing), then redelivered under
    // another id, as if Redis had trimmed the first job and the outbox published the row again.
    await events.add(EVENT.syncRequested, event, { jobId: event.eventId });
    await events.add(EVENT.syncRequested, event, { jobId: event.eventId });
    await completed(event.eventId);
    await events.add(EVENT.syncRequested, event, { jobId: `${event.eventId}-again` });
    await completed(`${event.eventId}-again`);

    const jobs = await syncQueue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed']);
    expect(jobs).toHaveLength(1);
    expect(jobs[0].id).toBe(event.syncRunId);
    expect(jobs[0].name).toBe(JOB.syncPublication);
    expect(jobs[0].data).toEqual({
      espConnectionId: event.espConnectionId,
      syncRunId: event.syncRunId,
      trigger: 'manual',
    });
    // Shared job options (attempts, backoff, retention) apply to the enqueued sync.
    expect(jobs[0].opts.attempts).toBe(5);
  });

  it('fails the event job when a handler fails, and BullMQ delivers it again', async () => {
    const event = syncRequested({ userId: FLAKY_USER });
    await events.add(EVENT.syncRequested, event, { jobId: event.eventId });
    await completed(event.eventId);

    expect(worker.app.get(FlakyListener).seen.get(event.eventId)).toBe(2);
    expect(await auditOf(QUEUE.domainEvents, event.eventId)).toMatchObject({
      name: EVENT.syncRequested,
      status: 'completed',
      attempts: 2,
      maxAttempts: 10,
      userId: FLAKY_USER,
      // Completed: the first attempt's error is history (its log line), not the job's state.
      lastError: null,
    });
    expect(await syncQueue.getJob(event.syncRunId)).toBeDefined();
  });

  it('sends an unknown event name straight to dead (no retries)', async () => {
    const jobId = randomUUID();
    await (events as unknown as Queue).add('no-such-event', {}, { jobId });
    const run = await waitFor(
      async () => {
        const row = await auditOf(QUEUE.domainEvents, jobId);
        return row?.status === 'dead' ? row : undefined;
      },
      { description: 'the unknown event to be dead' },
    );
    expect(run).toMatchObject({
      attempts: 1,
      maxAttempts: 10,
      lastError: 'UnrecoverableError: No handler for job "no-such-event" on queue "domain-events"',
    });
    expect(run.finishedAt).toBeInstanceOf(Date);
  });
});
