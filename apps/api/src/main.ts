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
import { API_APP_OPTIONS, configureApp } from './configure-app';

runService('api', async () => {
  const configModule = await validatedConfigModule(ApiEnv);
  const app = configureApp(
    await NestFactory.create<NestExpressApplication>(
      AppModule.forRoot(configModule),
      API_APP_OPTIONS,
    ),
  );
  const logger = app.get(Logger);
  const config = app.get<ConfigService<ApiEnv, true>>(ConfigService);
  enableGracefulShutdown(app, logger, config.get('SHUTDOWN_TIMEOUT_MS', { infer: true }));

  const port = config.get('PORT', { infer: true });
  await app.listen(port);
  logger.log(`api listening on port ${port}`, 'Bootstrap');
});
