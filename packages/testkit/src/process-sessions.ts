import { waitFor } from './wait-for';

/** Runs one SQL statement with parameters and returns its rows (a TypeORM DataSource's `query`). */
export type SqlQuery = (sql: string, parameters: unknown[]) => Promise<unknown[]>;

export interface ProcessSessionsOptions {
  /** The local ports of the gone process's sockets, read while it was alive (`tcpPortsOf`). */
  ports: number[];
  /** When the process was killed: only a session that began before this can have been its own. */
  startedBefore: Date;
  /** Give up after this long (default 20 s), naming the sessions still open. */
  timeoutMs?: number;
}

/**
 * Resolves once Postgres holds no session of a process that is gone. A backend outlives its
 * killed client until it has finished the statement in hand, so what a test reads as "what the
 * killed process left" is read after this, not after the exit alone.
 *
 * A session is the process's when its client port was one of the process's sockets and it began
 * before the kill. The start time matters: once the process is gone its ports are free, and any
 * other client (another jest worker's pool, the test's own) can connect from one of them and hold
 * that session for minutes, which a port alone would mistake for the killed process's.
 */
export async function waitForProcessSessionsToEnd(
  query: SqlQuery,
  { ports, startedBefore, timeoutMs }: ProcessSessionsOptions,
): Promise<void> {
  let open: unknown[] = [];
  try {
    await waitFor(
      async () => {
        open = await query(
          `SELECT pid, client_port, state, backend_start, left(query, 120) AS query
             FROM pg_stat_activity
            WHERE datname = current_database() AND client_port = ANY($1::int[])
              AND backend_start < $2`,
          [ports, startedBefore],
        );
        return open.length === 0;
      },
      { description: "the killed process's Postgres sessions to end", intervalMs: 20, timeoutMs },
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; still open: ${JSON.stringify(open)}`);
  }
}
