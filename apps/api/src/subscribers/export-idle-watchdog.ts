/** What the watchdog reads of a response (a ServerResponse has both). */
export interface WatchedResponse {
  /** True while the socket refuses more data: the response waits for the client to read. */
  readonly writableNeedDrain: boolean;
  readonly socket: { readonly bytesWritten: number } | null;
}

/** How often the watchdog looks, at most once a second (a tenth of the idle time below 10 s). */
export function idleCheckInterval(idleMs: number): number {
  return Math.max(10, Math.min(1_000, Math.floor(idleMs / 10)));
}

/**
 * Calls `onIdle` once the client of `response` has taken nothing for `idleMs`: the response has
 * waited for the socket to drain, and not a byte more went out, on every look over that time.
 * Time the response spends waiting on our side (the database, the formatter) does not count,
 * since the response then does not wait for the socket; a slow reader that keeps taking data
 * resets the clock with every chunk. Fires after `idleMs` at the earliest, and within two
 * look intervals of it. Returns the function that stops watching (call it however the response
 * ends; it does nothing after `onIdle`).
 *
 * Polling rather than `socket.setTimeout`: on a server socket that timer is Node's own (keep-alive,
 * `server.timeout`), and setting or clearing ours would change theirs.
 */
export function watchIdleReader(
  response: WatchedResponse,
  idleMs: number,
  onIdle: () => void,
): () => void {
  let lastBytes = response.socket?.bytesWritten ?? 0;
  let lastProgress = performance.now();
  const timer = setInterval(() => {
    const bytes = response.socket?.bytesWritten ?? lastBytes;
    const now = performance.now();
    if (!response.writableNeedDrain || bytes !== lastBytes) {
      lastBytes = bytes;
      lastProgress = now;
      return;
    }
    if (now - lastProgress >= idleMs) {
      clearInterval(timer);
      onIdle();
    }
  }, idleCheckInterval(idleMs));
  // A download in flight keeps the process alive by itself; this timer need not.
  timer.unref();
  return () => clearInterval(timer);
}
