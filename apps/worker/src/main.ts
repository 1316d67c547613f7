import 'reflect-metadata';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import {
  WorkerEnv,
  enableGracefulShutdown,
  runService,
  validatedConfigModule,
} from '@subscribernest/shared';
import { Logger } from 'nestjs-pino';
import { WorkerModule } from './worker.module';

runService('worker', async () => {
  // An application context, not an HTTP app: the only listener is the ops port (OpsServer).
  const app = await NestFactory.createApplicationContext(
    WorkerModule.forRoot(await validatedConfigModule(WorkerEnv)),
    {
      bufferLogs: true,
      // Let start-up errors reach runService (one message, exit 1) instead of process.abort().
      abortOnError: false,
    },
  );
  const logger = app.get(Logger);
  app.useLogger(logger);
  const config = app.get<ConfigService<WorkerEnv, true>>(ConfigService);
  enableGracefulShutdown(app, logger, config.get('SHUTDOWN_TIMEOUT_MS', { infer: true }));
  await app.init();
  logger.log('worker started', 'Bootstrap');
});
