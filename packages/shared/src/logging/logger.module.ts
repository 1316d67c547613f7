import { randomUUID } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { DynamicModule } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { LoggerModule } from 'nestjs-pino';

type LogSettings = { LOG_LEVEL: string; NODE_ENV: string; TRUST_PROXY?: unknown };

/**
 * Paths pino replaces with "[redacted]" wherever they appear in a log line. Secrets, codes and
 * addresses must never reach a log, even by accident (a whole object logged for debugging).
 */
export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["x-kit-api-key"]',
  'res.headers["set-cookie"]',
  '*.apiKey',
  '*.api_key',
  '*.password',
  '*.token',
  '*.code',
  '*.email',
  '*.encryptedApiKey',
  '*.emailEncrypted',
  '*.codeEncrypted',
];

const REQUEST_ID_HEADER = 'x-request-id';

/**
 * The request id: a sane X-Request-Id when the api trusts a proxy in front of it (TRUST_PROXY:
 * the proxy sets it, and it joins our logs to the proxy's), else a fresh one: a client reaching
 * the api directly must not pick the id that correlates our logs. Either is echoed back.
 */
function requestIdFrom(trustProxy: boolean) {
  return (req: IncomingMessage, res: ServerResponse): string => {
    const given = req.headers[REQUEST_ID_HEADER];
    const id =
      trustProxy && typeof given === 'string' && /^[A-Za-z0-9._-]{1,128}$/.test(given)
        ? given
        : randomUUID();
    res.setHeader(REQUEST_ID_HEADER, id);
    return id;
  };
}

/** TRUST_PROXY as the api parsed it: false, 0 and an empty list trust nobody. */
function trustsAProxy(setting: unknown): boolean {
  if (Array.isArray(setting)) return setting.length > 0;
  return setting === true || (typeof setting === 'number' && setting > 0);
}

/** Structured JSON logs (nestjs-pino) for a service, with request ids on every HTTP log line. */
export function loggerModule(service: 'api' | 'worker'): DynamicModule {
  return LoggerModule.forRootAsync({
    inject: [ConfigService],
    useFactory: (config: ConfigService<LogSettings, true>) => ({
      pinoHttp: {
        name: service,
        level: config.get('LOG_LEVEL', { infer: true }),
        base: { service, pid: process.pid },
        redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' },
        genReqId: requestIdFrom(trustsAProxy(config.get('TRUST_PROXY', { infer: true }))),
        // Health and metrics are polled constantly; logging each would drown the real traffic.
        autoLogging: {
          ignore: (req: IncomingMessage) => req.url === '/health' || req.url === '/metrics',
        },
        serializers: {
          req: (req: { id: string; method: string; url: string }) => ({
            id: req.id,
            method: req.method,
            url: req.url,
          }),
        },
      },
    }),
  });
}
