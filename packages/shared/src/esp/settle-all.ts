/**
 * `Promise.all` for ESP calls made side by side, except that a failure is thrown only once every
 * call has ended. `Promise.all` rejects at the first failure and leaves the others running: their
 * answers, and what they record (the request budget's window after a 429, metrics, retries), would
 * land after the caller had already answered its own request, and nobody would wait for them.
 * The first failure (in call order) is the one thrown.
 */
export async function settleAll<T extends readonly unknown[]>(
  calls: readonly [...{ [K in keyof T]: Promise<T[K]> }],
): Promise<T> {
  const results = await Promise.allSettled(calls as readonly Promise<unknown>[]);
  for (const result of results) {
    if (result.status === 'rejected') throw result.reason;
  }
  return results.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
