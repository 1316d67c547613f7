import { randomUUID } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { DynamicModule } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { LoggerModule } from 'nestjs-pino';

type LogSettings = { LOG_LEVEL: string; NODE_ENV: string };

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

/** Takes a sane caller-provided request id, else makes one; either is echoed back. */
function requestId(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers[REQUEST_ID_HEADER];
  const id =
    typeof given === 'string' && /^[A-Za-z0-9._-]{1,128}$/.test(given) ? given : randomUUID();
  res.setHeader(REQUEST_ID_HEADER, id);
  return id;
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
        genReqId: requestId,
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
