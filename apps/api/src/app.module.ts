import { DynamicModule, Module } from '@nestjs/common';
import {
  EncryptionModule,
  databaseModule,
  loggerModule,
  queueRootModule,
} from '@subscribernest/shared';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { HealthModule } from './health/health.module';

@Module({})
export class AppModule {
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
        EncryptionModule,
        PrometheusModule.register({ path: '/metrics', defaultMetrics: { enabled: true } }),
        HealthModule,
      ],
    };
  }
}
