import { randomUUID } from 'node:crypto';
import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import {
  EspConnection,
  SyncRequestedEvent,
  SyncRun,
  SyncRunLifecycle,
  espLabel,
} from '@subscribernest/shared';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { EspConnectionRepository } from '../esp-connections/esp-connection.repository';
import { SyncRunRepository } from './sync-run.repository';

export interface AcceptedSync {
  run: SyncRun;
  connection: EspConnection;
  /** False when an unfinished run of the connection was there already. */
  created: boolean;
}

/** How often a request re-tries when the run that blocked it finished in between. */
const MAX_RACE_RETRIES = 3;

/**
 * Manual syncs through events (ARCHITECTURE §4): the run and its `SyncRequestedEvent` are
 * committed together, then the event is emitted in-process for the outbox relay to publish. The
 * api never adds a sync job itself; the worker does, when it consumes the event.
 */
@Injectable()
export class SyncService {
  constructor(
    private readonly runs: SyncRunRepository,
    private readonly lifecycle: SyncRunLifecycle,
    private readonly connections: EspConnectionRepository,
    private readonly events: EventEmitter2,
    @InjectPinoLogger(SyncService.name) private readonly logger: PinoLogger,
  ) {}

  /**
   * `correlationId`: the request's id, carried by the event, the run and every job it causes;
   * `traceparent`: the request's W3C trace context, carried the same way (ids only).
   */
  async requestSync(
    userId: string,
    connectionId: string,
    { correlationId, traceparent }: { correlationId?: string; traceparent?: string } = {},
  ): Promise<AcceptedSync> {
    for (let attempt = 0; attempt < MAX_RACE_RETRIES; attempt++) {
      const event = new SyncRequestedEvent({
        eventId: randomUUID(),
        espConnectionId: connectionId,
        userId,
        syncRunId: randomUUID(),
        requestedAt: new Date().toISOString(),
        correlationId,
        traceparent,
      });
      const outcome = await this.lifecycle.createManual(userId, connectionId, event);
      switch (outcome.kind) {
        case 'not-found':
          throw new NotFoundException('ESP connection not found');
        case 'inactive':
          throw new ConflictException(
            outcome.connection.status === 'invalid'
              ? `${espLabel(outcome.connection.espType)} rejected this connection's API key; ` +
                  'save a new key (PATCH /esp-connections/:id) before syncing'
              : 'This connection is being deleted',
          );
        case 'existing':
          this.logger.info(
            { userId, connectionId, syncRunId: outcome.run.id, status: outcome.run.status },
            'Sync already under way; answering with that run',
          );
          return { run: outcome.run, connection: outcome.connection, created: false };
        case 'created':
          this.logger.info(
            { userId, connectionId, syncRunId: outcome.run.id, eventId: event.eventId },
            'Sync requested',
          );
          // After commit: the relay publishes the outbox row (and never throws). If Redis is
          // down the row stays unpublished and the worker's sweeper publishes it later.
          await this.events.emitAsync(SyncRequestedEvent.eventName, event);
          return { run: outcome.run, connection: outcome.connection, created: true };
        case 'raced':
          continue;
      }
    }
    throw new ConflictException('The connection is busy; try again');
  }

  async history(userId: string, connectionId: string, limit: number): Promise<SyncRun[]> {
    if (!(await this.connections.findOneForUser(userId, connectionId))) {
      throw new NotFoundException('ESP connection not found');
    }
    return this.runs.findRecentForUser(userId, connectionId, limit);
  }
}
