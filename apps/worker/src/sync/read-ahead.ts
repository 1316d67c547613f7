/**
 * Iterates `source` one item ahead of the consumer: the next item is being produced while the
 * consumer handles the current one, so a sync fetches and prepares batch k+1 while it writes
 * batch k. At most one finished item waits (backpressure: the source is not pulled further until
 * the consumer asks), so memory stays bounded by two items and whatever the source holds.
 *
 * An error of the source surfaces when the consumer reaches that item, after it has handled the
 * ones before. Stopping early (break, throw) waits for the pull in flight, then closes the source,
 * so nothing keeps running after the loop is gone.
 */
export async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T, void, undefined> {
  const iterator = source[Symbol.asyncIterator]();
  let next = guarded(iterator.next());
  let finished = false;
  try {
    for (;;) {
      const result = await next;
      if (result.done) {
        finished = true;
        return;
      }
      next = guarded(iterator.next());
      yield result.value;
    }
  } finally {
    if (!finished) {
      // The consumer stopped (or the source failed): settle the pull in flight, then close.
      await next.catch(() => undefined);
      await iterator.return?.(undefined).catch(() => undefined);
    }
  }
}

/** The rejection is handled where the consumer awaits it; until then it must not be unhandled. */
function guarded<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}
