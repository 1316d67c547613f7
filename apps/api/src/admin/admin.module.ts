import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { BullBoardModule, BullBoardModuleOptions } from '@bull-board/nestjs';
import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { EncryptionService, QUEUE_NAMES, registerQueues } from '@subscribernest/shared';
import { AuthModule } from '../auth/auth.module';
import { SessionService } from '../auth/session.service';
import { JobsModule } from '../jobs/jobs.module';
import { ADMIN_ONLY_QUEUES, AdminQueuesService } from './admin-queues.service';
import { DeadLetterController } from './dead-letter.controller';
import { DeadLetterService } from './dead-letter.service';
import { queueBoardAuthMiddleware } from './queue-board-auth.middleware';
import { QUEUE_BOARD_PATH } from './queue-board-cookie';
import { QueueBoardController } from './queue-board.controller';
import { SCHEDULER_TICKS_JOB_OPTIONS, SCHEDULER_TICKS_QUEUE } from './scheduler-ticks.contract';
import { SchedulersController } from './schedulers.controller';
import { SchedulersService } from './schedulers.service';

/**
 * Admin only (role `admin`): the dead-letter list and retries, manual cron ticks, and Bull Board
 * at /admin/queues behind queueBoardAuthMiddleware (the global guards do not reach it).
 */
@Module({
  imports: [
    AuthModule,
    JobsModule,
    registerQueues(...ADMIN_ONLY_QUEUES),
    BullModule.registerQueue({
      name: SCHEDULER_TICKS_QUEUE,
      defaultJobOptions: SCHEDULER_TICKS_JOB_OPTIONS,
    }),
    BullBoardModule.forRootAsync({
      imports: [AuthModule],
      inject: [SessionService, EncryptionService],
      useFactory: (sessions: SessionService, encryption: EncryptionService) => ({
        route: QUEUE_BOARD_PATH,
        // @bull-board/express carries its own copy of @bull-board/api's types (9.10.1 vs 9.10.2):
        // identical at run time, distinct private members to the compiler.
        adapter: ExpressAdapter as unknown as BullBoardModuleOptions['adapter'],
        middleware: queueBoardAuthMiddleware(sessions, encryption),
        boardOptions: { uiConfig: { boardTitle: 'SubscriberNest queues' } },
      }),
    }),
    BullBoardModule.forFeature(
      ...[...QUEUE_NAMES, SCHEDULER_TICKS_QUEUE].map((name) => ({ name, adapter: BullMQAdapter })),
    ),
  ],
  controllers: [DeadLetterController, SchedulersController, QueueBoardController],
  providers: [AdminQueuesService, DeadLetterService, SchedulersService],
})
export class AdminModule {}
