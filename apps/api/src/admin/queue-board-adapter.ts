import { ExpressAdapter } from '@bull-board/express';
import { Logger } from '@nestjs/common';
import { IncomingMessage, ServerResponse } from 'node:http';
import { isQueueBoardSessionRoute } from './queue-board-cookie';

type RequestHandler = (
  request: IncomingMessage & { originalUrl?: string },
  response: ServerResponse,
  next: (error?: unknown) => void,
) => void;

type BoardErrorHandler = Parameters<ExpressAdapter['setErrorHandler']>[0];
/** What Bull Board's handlers throw: an Error, sometimes with the HTTP status to answer. */
type BoardError = Error & { statusCode?: unknown };

const logger = new Logger('QueueBoard');

/** The 4xx statuses Bull Board answers (its HTTPStatus type); anything else is a server error. */
const CLIENT_ERRORS = [400, 403, 404, 405, 409] as const;

/** Anything that looks like a file path (`/usr/src/app/…`, `C:\…`) in a message, replaced. */
const PATHS = /(?:[A-Za-z]:)?(?:[\\/][\w.@-]+){2,}/g;

/** A message safe to show: one line, no paths, bounded. */
function publicMessage(message: string | undefined): string {
  return String(message ?? '')
    .split('\n')[0]
    .replace(PATHS, '<path>')
    .slice(0, 200);
}

/**
 * What Bull Board answers when one of its API handlers fails. Its own handler returns the error's
 * message and, in development, its stack; ours keeps the shape its UI reads (`error.key`,
 * `message`) but never a stack or a path, in any environment. A server error is logged here, in
 * full, for the operator; the admin gets a pointer to the log.
 */
export function queueBoardErrorResponse(error: BoardError): ReturnType<BoardErrorHandler> {
  const status = CLIENT_ERRORS.find((code) => code === error.statusCode);
  if (status === undefined) {
    logger.error(`queue board handler failed: ${error.message}`, error.stack);
    return {
      status: 500,
      body: {
        error: { key: 'ERRORS.INTERNAL_SERVER_ERROR' },
        statusCode: 500,
        message: 'The queue board could not answer; the api log has the details',
      },
    };
  }
  return {
    status,
    body: {
      error: { key: 'ERRORS.INTERNAL_SERVER_ERROR' },
      statusCode: status,
      message: publicMessage(error.message) || 'The queue board could not answer this request',
    },
  };
}

/**
 * Bull Board's Express adapter with queueBoardErrorResponse in place of its error handler, and
 * out of the way of `POST /admin/queues/session` (the api's own route under the board's path).
 */
export class QueueBoardAdapter extends ExpressAdapter {
  override setErrorHandler(_handler: BoardErrorHandler): this {
    return super.setErrorHandler(queueBoardErrorResponse);
  }

  override getRouter(): RequestHandler {
    const board = super.getRouter() as RequestHandler;
    return (request, response, next) =>
      isQueueBoardSessionRoute(request) ? next() : board(request, response, next);
  }
}
