import { BullBoardModule, BullBoardModuleOptions } from '@bull-board/nestjs';
import { Module, ServiceUnavailableException } from '@nestjs/common';
import {
  AdminAction,
  CronRun,
  EncryptionService,
  JobProducer,
  QUEUE_NAMES,
  SyncLifecycleModule,
} from '@subscribernest/shared';
import { AuthModule } from '../auth/auth.module';
import { SessionService } from '../auth/session.service';
import { JobsModule } from '../jobs/jobs.module';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AdminActionRepository } from './audit/admin-action.repository';
import { AdminActionsController } from './audit/admin-actions.controller';
import { AdminAuditInterceptor } from './audit/admin-audit.interceptor';
import { CronRunsController } from './cron-runs.controller';
import { CronRunsService } from './cron-runs.service';
import { DeadLetterController } from './dead-letter.controller';
import { DeadLetterService } from './dead-letter.service';
import { QueueBoardAdapter } from './queue-board-adapter';
import { QueueBoardQueueAdapter } from './queue-board-queue-adapter';
import { queueBoardAuthMiddleware } from './queue-board-auth.middleware';
import { QUEUE_BOARD_PATH } from './queue-board-cookie';
import { QueueBoardController } from './queue-board.controller';
import { SchedulersController } from './schedulers.controller';
import { SchedulersService } from './schedulers.service';

/**
 * Admin only (role `admin`): the dead-letter list and retries, manual cron ticks, the cron tick
 * list and re-runs, the trail of those actions (`admin_actions`, GET /admin/actions), and Bull Board
 * at /admin/queues behind queueBoardAuthMiddleware (the global guards do not reach it). With Redis
 * down, what needs it answers 503 within seconds (JobProducer); the dead-letter list is
 * Postgres only and keeps working.
 */
@Module({
  imports: [
    AuthModule,
    JobsModule,
    SyncLifecycleModule,
    TypeOrmModule.forFeature([CronRun, AdminAction]),
    BullBoardModule.forRootAsync({
      imports: [AuthModule],
      inject: [SessionService, EncryptionService, JobProducer],
      useFactory: (
        sessions: SessionService,
        encryption: EncryptionService,
        producer: JobProducer,
      ) => ({
        route: QUEUE_BOARD_PATH,
        // @bull-board/express carries its own copy of @bull-board/api's types (9.10.1 vs 9.10.2):
        // identical at run time, distinct private members to the compiler. The adapter answers
        // errors without stacks or paths (queue-board-adapter.ts).
        adapter: QueueBoardAdapter as unknown as BullBoardModuleOptions['adapter'],
        // The board's own Redis calls are not bounded in time: check Redis answers first.
        middleware: queueBoardAuthMiddleware(sessions, encryption, () =>
          producer.ping().catch(() => {
            throw new ServiceUnavailableException(
              'Bull Board needs the job queue (Redis), which is unavailable; try again later',
            );
          }),
        ),
        boardOptions: { uiConfig: { boardTitle: 'SubscriberNest queues' } },
      }),
    }),
    // Read-only on every queue (QueueBoardQueueAdapter forces it): a writable board could add or
    // edit jobs and act outside the audited admin routes; retries and manual ticks go through
    // those routes. It shows jobs without stacks, with redacted reasons and id fields only.
    BullBoardModule.forFeature(
      ...QUEUE_NAMES.map((name) => ({
        name,
        adapter: QueueBoardQueueAdapter,
        options: { readOnlyMode: true },
      })),
    ),
  ],
  controllers: [
    DeadLetterController,
    SchedulersController,
    CronRunsController,
    QueueBoardController,
    AdminActionsController,
  ],
  providers: [
    DeadLetterService,
    SchedulersService,
    CronRunsService,
    AdminActionRepository,
    AdminAuditInterceptor,
  ],
})
export class AdminModule {}
