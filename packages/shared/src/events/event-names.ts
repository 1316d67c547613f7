/** Domain event names: also the job names on the `domain-events` queue. */
export const EVENT = {
  syncRequested: 'sync-requested',
} as const;
export type EventName = (typeof EVENT)[keyof typeof EVENT];
