import { EVENT } from './event-names';

export interface SyncRequestedPayload {
  eventId: string;
  espConnectionId: string;
  userId: string;
  syncRunId: string;
  /** ISO 8601. */
  requestedAt: string;
  /** The api request's id (X-Request-Id): the worker logs every line of the sync with it. */
  correlationId?: string;
  /** The api request's W3C trace context (`00-<trace id>-<span id>-<flags>`): ids only. */
  traceparent?: string;
}

/**
 * A user asked for a sync (PRD US-004). The api writes it to the outbox with the `sync_runs` row;
 * the worker consumes it and enqueues `sync-publication` with job id = `syncRunId`.
 */
export class SyncRequestedEvent implements SyncRequestedPayload {
  static readonly eventName = EVENT.syncRequested;

  readonly eventId: string;
  readonly espConnectionId: string;
  readonly userId: string;
  readonly syncRunId: string;
  readonly requestedAt: string;
  readonly correlationId: string | undefined;
  readonly traceparent: string | undefined;

  constructor(payload: SyncRequestedPayload) {
    this.eventId = payload.eventId;
    this.espConnectionId = payload.espConnectionId;
    this.userId = payload.userId;
    this.syncRunId = payload.syncRunId;
    this.requestedAt = payload.requestedAt;
    this.correlationId = payload.correlationId;
    this.traceparent = payload.traceparent;
  }

  toPayload(): SyncRequestedPayload {
    return {
      eventId: this.eventId,
      espConnectionId: this.espConnectionId,
      userId: this.userId,
      syncRunId: this.syncRunId,
      requestedAt: this.requestedAt,
      ...(this.correlationId ? { correlationId: this.correlationId } : {}),
      ...(this.traceparent ? { traceparent: this.traceparent } : {}),
    };
  }
}
