import { DataSourceOptions } from 'typeorm';
import { ENTITIES } from '../entities';
import { MIGRATIONS } from '../migrations';

/**
 * The one DataSource configuration: both apps (through TypeOrmModule) and the migration CLI
 * build theirs from this. Schema changes go through migrations only, never `synchronize`.
 */
export function dataSourceOptions(databaseUrl: string): DataSourceOptions {
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
      max: 10,
    },
  };
}
