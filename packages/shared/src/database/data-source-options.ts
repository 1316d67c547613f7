import { DataSourceOptions } from 'typeorm';
import { ENTITIES } from '../entities';
import { MIGRATIONS } from '../migrations';

/** Connections a pool keeps at most when DATABASE_POOL_SIZE does not say (pg's own default). */
export const DEFAULT_DATABASE_POOL_SIZE = 10;

/**
 * The one DataSource configuration: both apps (through TypeOrmModule) and the migration CLI
 * build theirs from this. Schema changes go through migrations only, never `synchronize`.
 * `poolSize` is the most connections the pool opens (the services pass DATABASE_POOL_SIZE).
 */
export function dataSourceOptions(
  databaseUrl: string,
  poolSize = DEFAULT_DATABASE_POOL_SIZE,
): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'typeorm_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    uuidExtension: 'pgcrypto',
    applicationName: process.env.npm_package_name ?? 'subscribernest',
    extra: {
      // Fail fast instead of hanging when Postgres is unreachable; pooled connections are reused.
      connectionTimeoutMillis: 5_000,
      max: poolSize,
    },
  };
}
