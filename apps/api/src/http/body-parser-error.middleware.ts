import { IncomingMessage, ServerResponse } from 'node:http';
import {
  BadRequestException,
  Injectable,
  NestMiddleware,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';

export const JSON_BODY_LIMIT = '100kb';

const BODY_ERROR = Symbol('bodyParserError');

type RequestWithBodyError = IncomingMessage & { [BODY_ERROR]?: unknown };

/**
 * body-parser's errors as the answers they deserve. A parse error's own message quotes the body,
 * which may hold an address or a code, so it is replaced.
 */
export function bodyParserError(error: unknown): unknown {
  switch ((error as { type?: unknown } | null)?.type) {
    case 'entity.parse.failed':
      return new BadRequestException('Malformed JSON in request body');
    case 'entity.too.large':
      return new PayloadTooLargeException(`Request body is larger than ${JSON_BODY_LIMIT}`);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new UnsupportedMediaTypeException('Unsupported request body encoding or charset');
    case 'request.aborted':
    case 'request.size.invalid':
      return new BadRequestException('Request body was incomplete');
    default:
      return error;
  }
}

/**
 * Express error middleware placed right after the JSON body parser: it keeps the parser's error
 * on the request instead of failing there, so the request still gets its request id and log line
 * (nestjs-pino's middleware runs later) before BodyParserErrorMiddleware answers it.
 */
export function holdBodyParserError(
  error: unknown,
  request: RequestWithBodyError,
  _response: ServerResponse,
  next: () => void,
): void {
  request[BODY_ERROR] = bodyParserError(error);
  next();
}

/** Fails the request with the body parser's error, if it had one (see holdBodyParserError). */
@Injectable()
export class BodyParserErrorMiddleware implements NestMiddleware {
  use(request: RequestWithBodyError, _response: ServerResponse, next: (error?: unknown) => void) {
    next(request[BODY_ERROR]);
  }
}
