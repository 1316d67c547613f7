import { HttpException, HttpStatus } from '@nestjs/common';

/** 429 with the number of seconds to wait, sent as `Retry-After` by ApiExceptionFilter. */
export class TooManyRequestsException extends HttpException {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(
      { statusCode: HttpStatus.TOO_MANY_REQUESTS, message, error: 'Too Many Requests' },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}
