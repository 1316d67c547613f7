import { DynamicModule } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, DataSourceOptions } from 'typeorm';
import { dataSourceOptions } from './data-source-options';
import { guardPoolClients } from './pool-client-guard';

/** TypeORM for a service, from the validated DATABASE_URL and DATABASE_POOL_SIZE. */
export function databaseModule(): DynamicModule {
  return TypeOrmModule.forRootAsync({
    inject: [ConfigService],
    useFactory: (
      config: ConfigService<{ DATABASE_URL: string; DATABASE_POOL_SIZE: number }, true>,
    ) => ({
      ...dataSourceOptions(
        config.get('DATABASE_URL', { infer: true }),
        config.get('DATABASE_POOL_SIZE', { infer: true }),
      ),
      // Keep retrying at start-up for a short while (Postgres may still be booting in compose),
      // then fail loudly rather than serve without a database.
      retryAttempts: 5,
      retryDelay: 1_000,
      autoLoadEntities: false,
    }),
    dataSourceFactory: async (options?: DataSourceOptions) => {
      if (!options) throw new Error('TypeORM options missing');
      return guardPoolClients(await new DataSource(options).initialize());
    },
  });
}
