import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { IncomingMessage } from 'node:http';

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
