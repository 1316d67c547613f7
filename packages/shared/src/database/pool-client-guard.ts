import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** The part of pg-pool this file uses (TypeORM types its pool as `any`). */
interface PgPool {
  on(event: 'acquire', listener: (client: PgClient) => void): void;
}
interface PgClient {
  on(event: 'error', listener: (error: Error) => void): void;
}

/**
 * Gives every pooled Postgres client a permanent `error` listener, so a connection that dies
 * while nobody listens (its backend terminated, `idle_session_timeout`, a proxy's idle cut) can
 * never crash the process with an unhandled 'error' event. pg-pool listens on idle clients and
 * TypeORM on the clients its query runners hold, but a client can sit between the two — found by
 * terminating every backend under load: the api exited about once in five rounds. The owners still
 * get the event and discard the client; this only logs it.
 */
export function guardPoolClients(dataSource: DataSource): DataSource {
  const pool = (dataSource.driver as unknown as { master?: PgPool }).master;
  if (!pool) return dataSource;
  const logger = new Logger('Postgres');
  const guarded = new WeakSet<PgClient>();
  // On acquisition (every checkout), so clients the pool made before this call are covered too.
  pool.on('acquire', (client) => {
    if (guarded.has(client)) return;
    guarded.add(client);
    client.on('error', (error) => {
      logger.warn({
        msg: 'Postgres connection lost',
        err: { type: error.name, message: error.message },
      });
    });
  });
  return dataSource;
}
