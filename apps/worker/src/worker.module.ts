import { DynamicModule, Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import {
  EncryptionModule,
  databaseModule,
  JobQueuesModule,
  loggerModule,
  queueRootModule,
} from '@subscribernest/shared';
import { AccountDeletionModule } from './account-deletion/account-deletion.module';
import { BillingModule } from './billing/billing.module';
import { EmailModule } from './email/email.module';
import { EventsModule } from './events/events.module';
import { OpsModule } from './ops/ops.module';
import { SchedulersModule } from './schedulers/schedulers.module';
import { SyncModule } from './sync/sync.module';

@Module({})
export class WorkerModule {
  /**
   * `config` is the validated configuration module, resolved by main.ts before Nest starts so a
   * bad variable stops the process with one line instead of a Nest stack trace.
   */
  static forRoot(config: DynamicModule): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        config,
        loggerModule('worker'),
        databaseModule(),
        queueRootModule('worker'),
        JobQueuesModule.forRoot(),
        EncryptionModule,
        ScheduleModule.forRoot(),
        EventEmitterModule.forRoot(),
        OpsModule,
        EventsModule,
        SyncModule,
        EmailModule,
        SchedulersModule,
        AccountDeletionModule,
        BillingModule,
      ],
    };
  }
}
