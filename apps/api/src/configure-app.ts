import { IncomingMessage, ServerResponse } from 'node:http';
import { NestApplicationOptions } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { HttpAdapterHost } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { ApiEnv } from '@subscribernest/shared';
import helmet from 'helmet';
import { Logger } from 'nestjs-pino';
import { ApiExceptionFilter } from './http/api-exception.filter';
import { ApiValidationPipe } from './http/api-validation.pipe';
import {
  holdBodyParserError,
  holdBodyShapeError,
  JSON_BODY_LIMIT,
} from './http/body-parser-error.middleware';
import { setupOpenApi } from './http/openapi';
import { httpMetrics } from './http/http-metrics.middleware';

function noStore(_request: IncomingMessage, response: ServerResponse, next: () => void): void {
  response.setHeader('Cache-Control', 'no-store');
  next();
}

/**
 * Options every api application is created with, by main.ts and by the tests. Nest's own body
 * parser is off because configureApp installs one whose errors it can answer cleanly (see
 * body-parser-error.middleware.ts). `rawBody` makes that parser (installed through
 * `useBodyParser`) also keep the bytes it parsed as `req.rawBody`: Stripe signs those exact bytes,
 * and POST /billing/webhook verifies the signature over them.
 */
export const API_APP_OPTIONS = {
  bodyParser: false,
  rawBody: true,
  bufferLogs: true,
  // Let start-up errors reach runService (one message, exit 1) instead of process.abort().
  abortOnError: false,
} satisfies NestApplicationOptions;

/**
 * Everything about the HTTP surface that is not a route: logging, trusted proxies, security
 * headers, CORS, the JSON body parser, validation, error answers and the OpenAPI document. main.ts
 * and the e2e tests both call it, so the tests exercise the app exactly as it runs.
 */
export function configureApp(app: NestExpressApplication): NestExpressApplication {
  app.useLogger(app.get(Logger));
  const config = app.get<ConfigService<ApiEnv, true>>(ConfigService);

  // Which X-Forwarded-For hops to believe (default: none). `req.ip` then is the client's address
  // behind the load balancer: the per-IP auth throttle and sign-in notifications read it.
  app.set('trust proxy', config.get('TRUST_PROXY', { infer: true }));

  app.use(
    helmet({
      // TLS ends at the load balancer; on plain HTTP this directive would break /docs' assets.
      contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
    }),
  );
  // Nearly every answer carries personal data (the profile, subscribers, exports, job states):
  // no browser, proxy or CDN may keep a copy. The few that do not lose nothing by it.
  app.use(noStore);
  // First of the handlers that see every request, so the timing includes everything after it.
  app.use(httpMetrics);
  app.enableCors({
    origin: config
      .get('CORS_ORIGINS', { infer: true })
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    allowedHeaders: ['authorization', 'content-type', 'x-request-id', 'traceparent'],
    exposedHeaders: ['content-disposition', 'x-request-id', 'traceresponse', 'retry-after'],
    methods: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
  });

  // Through useBodyParser, not app.use(express.json()): only then does Nest add the `verify` hook
  // that keeps `req.rawBody` (API_APP_OPTIONS.rawBody) for the Stripe webhook's signature check.
  app.useBodyParser('json', { limit: JSON_BODY_LIMIT });
  app.use(holdBodyParserError);
  app.use(holdBodyShapeError);

  app.useGlobalPipes(new ApiValidationPipe());
  app.useGlobalFilters(new ApiExceptionFilter(app.get(HttpAdapterHost)));
  setupOpenApi(app);
  return app;
}
