import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ApiEnv, dataSourceOptions, guardPoolClients } from '@subscribernest/shared';
import { DataSource } from 'typeorm';
import { PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';

/**
 * Settings of every export connection. COPY plans its SELECT for every row, so on a list that is
 * most of the table the planner prefers a sequential scan and a sort (plain or incremental) to
 * the connection's index: the sort spills the whole list to temporary files before the first row
 * leaves, for every download. Read along the `(esp_connection_id, id)` index instead, rows stream from the start
 * in constant memory (time-ordered ids keep a list's heap pages in order too). Only the export's
 * COPY runs on these connections.
 */
export const EXPORT_SESSION_OPTIONS = '-c enable_sort=off -c enable_incremental_sort=off';

/**
 * The export downloads' own Postgres pool, of EXPORT_MAX_CONCURRENT connections. A download
 * holds its connection (its COPY) for as long as its client takes to read the file:
 * on the pool every other route uses, a few slow or stalled downloads would leave sign-in, lists
 * and /health waiting for a connection until they failed. Here they can only wait on each other,
 * and ExportSlots admits no more downloads than this pool has connections, so an admitted one
 * never waits for a connection either.
 *
 * A DataSource without entities (only the exports' COPY runs on it, on clients of its pg pool:
 * openCopyRows), so that it shares the main one's driver settings and the pool-client guard.
 */
@Injectable()
export class ExportDatabase implements OnModuleInit, OnModuleDestroy {
  readonly dataSource: DataSource;

  constructor(config: ConfigService<ApiEnv, true>) {
    const options = dataSourceOptions(
      config.get('DATABASE_URL', { infer: true }),
      config.get('EXPORT_MAX_CONCURRENT', { infer: true }),
    ) as PostgresConnectionOptions;
    this.dataSource = new DataSource({
      ...options,
      entities: [],
      migrations: [],
      // Tells its connections apart from the main pool's in pg_stat_activity.
      applicationName: `${options.applicationName ?? 'subscribernest'}:exports`,
      extra: { ...options.extra, options: EXPORT_SESSION_OPTIONS },
    });
  }

  async onModuleInit(): Promise<void> {
    guardPoolClients(await this.dataSource.initialize());
  }

  /** After the HTTP drain: a download still running then has been cut and its COPY ended. */
  async onModuleDestroy(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
