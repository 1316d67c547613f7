import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { JOB, JobProducer, PayloadOf, QUEUE, SyncRequestedEvent } from '@subscribernest/shared';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';

/**
 * A user asked for a sync: enqueue `sync-publication` with job id = the `sync_runs` id, so the id
 * the api returned is the job that runs. Idempotent: BullMQ ignores an add whose job id exists, so
 * an event delivered twice still makes one job. (Once Redis has trimmed a finished job, a very late
 * redelivery would add it again; the sync processor re-checks the run's status before working.)
 */
@Injectable()
export class SyncRequestedListener {
  constructor(
    private readonly producer: JobProducer,
    @InjectPinoLogger(SyncRequestedListener.name) private readonly logger: PinoLogger,
  ) {}

  // suppressErrors: false, so a failure fails the domain-events job and BullMQ retries it.
  @OnEvent(SyncRequestedEvent.eventName, { suppressErrors: false })
  async handle(event: SyncRequestedEvent): Promise<void> {
    const data: PayloadOf<typeof JOB.syncPublication> = {
      espConnectionId: event.espConnectionId,
      syncRunId: event.syncRunId,
      trigger: 'manual',
      ...(event.correlationId ? { correlationId: event.correlationId } : {}),
      ...(event.traceparent ? { traceparent: event.traceparent } : {}),
    };
    await this.producer.add(JOB.syncPublication, data, event.syncRunId);
    this.logger.info(
      {
        eventId: event.eventId,
        syncRunId: event.syncRunId,
        espConnectionId: event.espConnectionId,
        queue: QUEUE.subscriberSync,
        jobId: event.syncRunId,
      },
      'sync requested: sync-publication enqueued',
    );
  }
}
