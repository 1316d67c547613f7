import { randomUUID } from 'node:crypto';
import { ConfigService } from '@nestjs/config';
import { SchedulerRegistry } from '@nestjs/schedule';
import {
  CRON,
  EVENT,
  JOB,
  OutboxRelayService,
  QUEUE,
  SyncRequestedEvent,
} from '@subscribernest/shared';
import { waitFor } from '@subscribernest/testkit';
import { Queue } from 'bullmq';
import { getLoggerToken, PinoLogger } from 'nestjs-pino';
import { OutboxEventRepository } from '../src/events/outbox-event.repository';
import { OutboxSweepScheduler } from '../src/events/outbox-sweep.scheduler';
import { outboxRow, writeOutboxRow, writeUnpublishedSyncRequest } from './support/outbox-rows';
import { startTestWorker, TestWorker } from './support/test-worker';

const ALL_STATES = ['waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized'] as const;

describe('outbox sweeper (real Postgres and Redis)', () => {
  let worker: TestWorker;
  let sweeper: OutboxSweepScheduler;
  let events: Queue;
  let syncs: Queue;

  beforeAll(async () => {
    // The interval itself is left idle (1 h): each test sweeps by hand.
    worker = await startTestWorker({ env: { OUTBOX_SWEEP_INTERVAL_MS: '3600000' } });
    sweeper = worker.app.get(OutboxSweepScheduler);
    events = worker.queue(QUEUE.domainEvents);
    syncs = worker.queue(QUEUE.subscriberSync);
  });

  afterAll(async () => {
    await worker?.close();
  });

  const domainEventJobIds = async () =>
    (await events.getJobs([...ALL_STATES])).map((job) => job.id).sort();

  it('registers the interval under its name, with the configured period', () => {
    const interval = worker.app.get(SchedulerRegistry).getInterval(CRON.outboxSweep) as {
      _idleTimeout: number;
    };
    expect(interval._idleTimeout).toBe(3_600_000);
  });

  it('publishes an unpublished sync request once: one domain event, one sync-publication, row marked', async () => {
    const before = await domainEventJobIds();
    const event = await writeUnpublishedSyncRequest(worker.dataSource);

    expect(await sweeper.sweep()).toEqual({ published: 1, failed: 0 });

    const job = await waitFor(async () => syncs.getJob(event.syncRunId), {
      description: 'the sync-publication job',
    });
    expect(job.name).toBe(JOB.syncPublication);
    expect(job.data).toEqual({
      espConnectionId: event.espConnectionId,
      syncRunId: event.syncRunId,
      trigger: 'manual',
    });
    const after = await domainEventJobIds();
    expect(after.filter((id) => !before.includes(id))).toEqual([event.eventId]);
    const published = await events.getJob(event.eventId);
    expect(published?.name).toBe(EVENT.syncRequested);
    expect(published?.data).toEqual(event.toPayload());
    expect(await outboxRow(worker.dataSource, event.eventId)).toMatchObject({
      publishAttempts: 1,
      lastError: null,
      publishedAt: expect.any(Date) as Date,
    });

    // Nothing left: a second sweep publishes nothing, and no second sync job appears.
    expect(await sweeper.sweep()).toEqual({ published: 0, failed: 0 });
    expect(
      (await syncs.getJobs([...ALL_STATES])).filter((j) => j.data.syncRunId === event.syncRunId),
    ).toHaveLength(1);
  });

  it('leaves rows younger than the minimum age to the api fast path', async () => {
    const event = await writeUnpublishedSyncRequest(worker.dataSource, 0);
    expect(await sweeper.sweep()).toEqual({ published: 0, failed: 0 });
    expect(await outboxRow(worker.dataSource, event.eventId)).toMatchObject({
      publishAttempts: 0,
      publishedAt: null,
    });
    await worker.dataSource.query('DELETE FROM outbox_events WHERE id = $1', [event.eventId]);
  });

  it('two sweepers over 200 rows publish each row exactly once', async () => {
    const before = new Set(await domainEventJobIds());
    const ids = Array.from({ length: 200 }, () => randomUUID());
    for (const id of ids) {
      const payload = new SyncRequestedEvent({
        eventId: id,
        espConnectionId: randomUUID(),
        userId: randomUUID(),
        syncRunId: randomUUID(),
        requestedAt: new Date().toISOString(),
      }).toPayload();
      await writeOutboxRow(worker.dataSource, id, EVENT.syncRequested, { ...payload });
    }
    // A second instance with its own state: another replica, as far as the database can tell.
    const app = worker.app;
    const other = new OutboxSweepScheduler(
      app.get(OutboxEventRepository),
      app.get(OutboxRelayService),
      app.get(SchedulerRegistry),
      app.get(ConfigService),
      app.get<PinoLogger>(getLoggerToken(OutboxSweepScheduler.name)),
    );

    const [a, b] = await Promise.all([sweeper.sweep(), other.sweep()]);

    expect(a.failed + b.failed).toBe(0);
    expect(a.published + b.published).toBe(200);
    expect(a.published).toBeGreaterThan(0);
    expect(b.published).toBeGreaterThan(0);
    const attempts = await worker.dataSource.query<{ attempts: number; count: string }[]>(
      `SELECT publish_attempts AS attempts, count(*) FROM outbox_events
        WHERE id = ANY($1) AND published_at IS NOT NULL GROUP BY 1`,
      [ids],
    );
    expect(attempts).toEqual([{ attempts: 1, count: '200' }]);
    const added = (await domainEventJobIds()).filter((id) => !before.has(id));
    expect(added).toEqual([...ids].sort());
  });

  it('records a row that cannot be published and still publishes the others', async () => {
    const poisonId = randomUUID();
    // The oldest row: first in line.
    await writeOutboxRow(worker.dataSource, poisonId, 'no-such-event', {}, 120_000);
    const first = await writeUnpublishedSyncRequest(worker.dataSource);
    const second = await writeUnpublishedSyncRequest(worker.dataSource);

    expect(await sweeper.sweep()).toEqual({ published: 2, failed: 1 });
    await waitFor(
      async () => (await syncs.getJob(second.syncRunId)) && syncs.getJob(first.syncRunId),
      {
        description: 'both sync-publication jobs',
      },
    );
    expect(await outboxRow(worker.dataSource, poisonId)).toEqual({
      publishAttempts: 1,
      lastError: 'unknown event type "no-such-event"',
      publishedAt: null,
    });
    expect(await events.getJob(poisonId)).toBeUndefined();

    // Retried on every sweep, counted each time, never in the others' way.
    const third = await writeUnpublishedSyncRequest(worker.dataSource);
    expect(await sweeper.sweep()).toEqual({ published: 1, failed: 1 });
    expect(await outboxRow(worker.dataSource, third.eventId)).toMatchObject({ publishAttempts: 1 });
    expect(await outboxRow(worker.dataSource, poisonId)).toMatchObject({ publishAttempts: 2 });
    await worker.dataSource.query('DELETE FROM outbox_events WHERE id = $1', [poisonId]);
  });

  it('never overlaps itself on one replica', async () => {
    await writeUnpublishedSyncRequest(worker.dataSource);
    const first = sweeper.tick();
    expect(await sweeper.tick()).toBeNull();
    expect(await first).toEqual({ published: 1, failed: 0 });
  });
});
