import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ApiEnv, dataSourceOptions, guardPoolClients } from '@subscribernest/shared';
import { DataSource } from 'typeorm';
import { PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresConnectionOptions';

/**
 * The export downloads' own Postgres pool, of EXPORT_MAX_CONCURRENT connections. A download
 * holds its connection (a server-side cursor) for as long as its client takes to read the file:
 * on the pool every other route uses, a few slow or stalled downloads would leave sign-in, lists
 * and /health waiting for a connection until they failed. Here they can only wait on each other,
 * and ExportSlots admits no more downloads than this pool has connections, so an admitted one
 * never waits for a connection either.
 *
 * A DataSource without entities (only raw cursor queries run on it), so that it shares the main
 * one's driver settings and the pool-client guard, and TypeORM's query runners hand connections
 * back (or discard a broken one) exactly as on the main pool.
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
    });
  }

  async onModuleInit(): Promise<void> {
    guardPoolClients(await this.dataSource.initialize());
  }

  /** After the HTTP drain: a download still running then has been cut and its cursor closed. */
  async onModuleDestroy(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
