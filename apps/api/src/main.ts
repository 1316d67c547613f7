import 'reflect-metadata';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import {
  ApiEnv,
  enableGracefulShutdown,
  runService,
  validatedConfigModule,
} from '@subscribernest/shared';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';

runService('api', async () => {
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(await validatedConfigModule(ApiEnv)),
    {
      bufferLogs: true,
      // Let start-up errors reach runService (one message, exit 1) instead of process.abort().
      abortOnError: false,
    },
  );
  const logger = app.get(Logger);
  app.useLogger(logger);
  const config = app.get<ConfigService<ApiEnv, true>>(ConfigService);

  app.enableCors({
    origin: config
      .get('CORS_ORIGINS', { infer: true })
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    allowedHeaders: ['authorization', 'content-type', 'x-request-id'],
    exposedHeaders: ['content-disposition', 'x-request-id', 'retry-after'],
    methods: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
  });
  enableGracefulShutdown(app, logger, config.get('SHUTDOWN_TIMEOUT_MS', { infer: true }));

  const port = config.get('PORT', { infer: true });
  await app.listen(port);
  logger.log(`api listening on port ${port}`, 'Bootstrap');
});
