import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { IncomingMessage } from 'node:http';
import { formatTraceparent, TracedRequest } from '@subscribernest/shared';

/**
 * The request's id (nestjs-pino's, echoed as X-Request-Id): a trusted proxy's, else generated.
 * Passed on as the correlation id of the work the request causes (a sync's event, run and jobs).
 */
export const RequestId = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  const request = context.switchToHttp().getRequest<IncomingMessage & { id?: unknown }>();
  return typeof request.id === 'string' || typeof request.id === 'number'
    ? String(request.id)
    : undefined;
});

/**
 * The request's W3C `traceparent` (trace id and this request's span id; see loggerModule): a
 * trusted proxy's trace continued, else a new one. Carried with the correlation id.
 */
export const RequestTraceparent = createParamDecorator(
  (_data: unknown, context: ExecutionContext) => {
    const request = context.switchToHttp().getRequest<TracedRequest>();
    return request.traceContext ? formatTraceparent(request.traceContext) : undefined;
  },
);
