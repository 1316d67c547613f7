import { EVENT, EventName } from './event-names';
import { SyncRequestedEvent, SyncRequestedPayload } from './sync-requested.event';

/** Every domain event's payload, keyed by event name: what travels on `domain-events`. */
export interface DomainEventPayloads {
  [EVENT.syncRequested]: SyncRequestedPayload;
}

export type DomainEvent = SyncRequestedEvent;

const FACTORIES: { [N in EventName]: (payload: DomainEventPayloads[N]) => DomainEvent } = {
  [EVENT.syncRequested]: (payload) => new SyncRequestedEvent(payload),
};

export function isEventName(name: string): name is EventName {
  return Object.prototype.hasOwnProperty.call(FACTORIES, name);
}

/** Rebuilds the event class instance from its name and serialised payload. */
export function hydrateEvent<N extends EventName>(
  name: N,
  payload: DomainEventPayloads[N],
): DomainEvent {
  return FACTORIES[name](payload);
}
