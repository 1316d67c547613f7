import { randomUUID } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { DynamicModule } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { LoggerModule } from 'nestjs-pino';
import {
  childTraceContext,
  formatTraceparent,
  newTraceContext,
  parseTraceparent,
  TRACEPARENT_HEADER,
  TraceContext,
} from '../tracing/trace-context';

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

/** The response header that names the request's trace (W3C Trace Context Level 2). */
export const TRACERESPONSE_HEADER = 'traceresponse';

/** What the api's logger attaches to a request: its trace context (this request's own span). */
export type TracedRequest = IncomingMessage & { traceContext?: TraceContext };

/**
 * The request id: a sane X-Request-Id when the api trusts a proxy in front of it (TRUST_PROXY:
 * the proxy sets it, and it joins our logs to the proxy's), else a fresh one: a client reaching
 * the api directly must not pick the id that correlates our logs. Either is echoed back.
 *
 * The trace context, by the same rule: a valid `traceparent` from a trusted proxy continues its
 * trace (this request is a new span of it), anything else (no proxy trusted, no header, a
 * malformed one) starts a new trace; a bad header is never an error. The request's context is
 * answered as `traceresponse` (not `traceparent`, which is a request header a proxy could mistake
 * for its own upstream's) and carried with the correlation id into the work the request causes.
 */
function requestIdFrom(trustProxy: boolean) {
  return (req: TracedRequest, res: ServerResponse): string => {
    const given = req.headers[REQUEST_ID_HEADER];
    const id =
      trustProxy && typeof given === 'string' && /^[A-Za-z0-9._-]{1,128}$/.test(given)
        ? given
        : randomUUID();
    res.setHeader(REQUEST_ID_HEADER, id);
    const parent = trustProxy ? parseTraceparent(req.headers[TRACEPARENT_HEADER]) : null;
    req.traceContext = parent ? childTraceContext(parent) : newTraceContext();
    res.setHeader(TRACERESPONSE_HEADER, formatTraceparent(req.traceContext));
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
        // The trace id on every line of the request (ours and pino-http's "request completed").
        customProps: (req: TracedRequest) =>
          req.traceContext ? { traceId: req.traceContext.traceId } : {},
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
