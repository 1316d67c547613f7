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
import { HttpDrain } from './http/http-drain';

/** The drain time when HTTP_DRAIN_TIMEOUT_MS is unset, as a share of SHUTDOWN_TIMEOUT_MS. */
const DEFAULT_DRAIN_SHARE = 0.8;

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
  const shutdownTimeoutMs = config.get('SHUTDOWN_TIMEOUT_MS', { infer: true });
  const drainMs =
    config.get('HTTP_DRAIN_TIMEOUT_MS', { infer: true }) ??
    Math.floor(shutdownTimeoutMs * DEFAULT_DRAIN_SHARE);
  const http = new HttpDrain(app.getHttpServer(), logger);
  enableGracefulShutdown(app, logger, shutdownTimeoutMs, {
    beforeClose: () => http.drain(drainMs),
  });

  const port = config.get('PORT', { infer: true });
  const host = config.get('HOST', { infer: true });
  await app.listen(port, host);
  logger.log(`api listening on ${host} port ${port}`, 'Bootstrap');
});
