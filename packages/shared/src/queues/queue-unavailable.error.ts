/** A job could not be handed to Redis (down, unreachable, or too slow to answer). */
export class QueueUnavailableError extends Error {
  constructor(
    readonly queue: string,
    reason: string,
  ) {
    super(`Queue "${queue}" is unavailable: ${reason}`);
    this.name = 'QueueUnavailableError';
  }
}
