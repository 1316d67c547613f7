import { DynamicModule, MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import {
  EncryptionModule,
  databaseModule,
  JobQueuesModule,
  loggerModule,
  queueRootModule,
} from '@subscribernest/shared';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { AccountModule } from './account/account.module';
import { AdminModule } from './admin/admin.module';
import { AuthModule } from './auth/auth.module';
import { BillingModule } from './billing/billing.module';
import { DashboardModule } from './dashboard/dashboard.module';
import { EspConnectionsModule } from './esp-connections/esp-connections.module';
import { HealthModule } from './health/health.module';
import { MetricsController } from './health/metrics.controller';
import { BodyParserErrorMiddleware } from './http/body-parser-error.middleware';
import { JobsModule } from './jobs/jobs.module';
import { SubscribersModule } from './subscribers/subscribers.module';
import { SyncModule } from './sync/sync.module';

@Module({})
export class AppModule implements NestModule {
  /**
   * `config` is the validated configuration module, resolved by main.ts before Nest starts so a
   * bad variable stops the process with one line instead of a Nest stack trace.
   */
  static forRoot(config: DynamicModule): DynamicModule {
    return {
      module: AppModule,
      imports: [
        config,
        loggerModule('api'),
        databaseModule(),
        queueRootModule('producer'),
        JobQueuesModule.forRoot(),
        EncryptionModule,
        EventEmitterModule.forRoot(),
        PrometheusModule.register({
          path: '/metrics',
          controller: MetricsController,
          defaultMetrics: { enabled: true },
        }),
        HealthModule,
        AuthModule,
        AccountModule,
        EspConnectionsModule,
        SyncModule,
        SubscribersModule,
        DashboardModule,
        JobsModule,
        AdminModule,
        BillingModule,
      ],
    };
  }

  /** Runs after nestjs-pino's (global) middleware, so a bad body is logged with its request id. */
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(BodyParserErrorMiddleware).forRoutes('{*path}');
  }
}
