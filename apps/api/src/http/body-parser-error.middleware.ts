import { IncomingMessage, ServerResponse } from 'node:http';
import {
  BadRequestException,
  Injectable,
  NestMiddleware,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { checkInput } from './input-guard';

export const JSON_BODY_LIMIT = '100kb';

const BODY_ERROR = Symbol('bodyParserError');

type RequestWithBodyError = IncomingMessage & { [BODY_ERROR]?: unknown };

/**
 * zlib's codes (`Z_DATA_ERROR`, `Z_BUF_ERROR`), brotli's (`ERR__ERROR_FORMAT_PADDING_1`) and
 * zstd's: a body that is not what its Content-Encoding says. body-parser passes them on as a bare
 * "Bad Request".
 */
const DECOMPRESSION_ERROR = /^(Z_|ERR__|ZSTD_)/;

/**
 * body-parser's errors as the answers they deserve. A parse error's own message quotes the body,
 * which may hold an address or a code, so it is replaced.
 */
export function bodyParserError(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && DECOMPRESSION_ERROR.test(code)) {
    return new BadRequestException(
      'Request body could not be decompressed: it is not valid data for its Content-Encoding',
    );
  }
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

/**
 * Express middleware placed after holdBodyParserError: a parsed body nested deeper than
 * MAX_INPUT_DEPTH, or holding a string that is not valid Unicode, is held as a 400 naming the
 * problem (see input-guard.ts), before guards, pipes or class-transformer can touch it.
 */
export function holdBodyShapeError(
  request: RequestWithBodyError & { body?: unknown },
  _response: ServerResponse,
  next: () => void,
): void {
  if (request[BODY_ERROR] === undefined && typeof request.body === 'object') {
    request[BODY_ERROR] = checkInput(request.body, 'Request body');
  }
  next();
}

/** Fails the request with the body parser's error, if it had one (see holdBodyParserError). */
@Injectable()
export class BodyParserErrorMiddleware implements NestMiddleware {
  use(request: RequestWithBodyError, _response: ServerResponse, next: (error?: unknown) => void) {
    next(request[BODY_ERROR]);
  }
}
