import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { EVENT, OutboxRelayService, SyncRequestedEvent } from '@subscribernest/shared';

/**
 * The api's outbox fast path: domain events emitted in-process after their transaction committed
 * are published to the `domain-events` queue at once (job id = event id) and their outbox rows
 * marked published. Whatever it misses stays in the outbox for the worker's sweeper.
 */
@Injectable()
export class OutboxRelayListener {
  constructor(private readonly relay: OutboxRelayService) {}

  @OnEvent(EVENT.syncRequested)
  async onSyncRequested(event: SyncRequestedEvent): Promise<void> {
    await this.relay.publish({
      id: event.eventId,
      eventType: SyncRequestedEvent.eventName,
      payload: { ...event.toPayload() },
    });
  }
}
