import { EventEmitter2 } from '@nestjs/event-emitter';
import { DomainEventPayloads, EVENT, EventName, QUEUE, hydrateEvent } from '@subscribernest/shared';
import { Job } from 'bullmq';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { JobHandlers } from '../ops/job-handlers';
import { QueueProcessor, QueueWorker } from '../ops/queue-processor';

/**
 * Consumes the `domain-events` queue (one job per outbox event, job name = event name, job id =
 * event id) and re-emits each event in-process as its shared event class. `emitAsync` waits for the
 * `@OnEvent` handlers, so a failing handler fails the job and BullMQ retries it; handlers must be
 * idempotent (an event can be delivered more than once).
 */
@QueueWorker(QUEUE.domainEvents)
export class DomainEventsProcessor extends QueueProcessor<typeof QUEUE.domainEvents> {
  readonly queue = QUEUE.domainEvents;
  readonly concurrencySetting = 'DOMAIN_EVENTS_CONCURRENCY';
  protected readonly handlers: JobHandlers<typeof QUEUE.domainEvents> = {
    [EVENT.syncRequested]: (payload, job) => this.emit(EVENT.syncRequested, payload, job),
  };

  constructor(
    private readonly events: EventEmitter2,
    @InjectPinoLogger(DomainEventsProcessor.name) private readonly logger: PinoLogger,
  ) {
    super();
  }

  private async emit<N extends EventName>(
    name: N,
    payload: DomainEventPayloads[N],
    job: Job,
  ): Promise<void> {
    const event = hydrateEvent(name, payload);
    // Ids only: an event payload may one day carry personal data, and logs must not.
    this.logger.info(
      { event: name, eventId: payload.eventId, jobId: job.id, attempt: job.attemptsMade + 1 },
      'domain event received',
    );
    await this.events.emitAsync(name, event);
  }
}
