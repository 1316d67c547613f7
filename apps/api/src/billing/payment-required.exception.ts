import { HttpException, HttpStatus } from '@nestjs/common';

/** 402: the action needs an entitled subscription the caller does not have. */
export class PaymentRequiredException extends HttpException {
  constructor(message: string) {
    super(
      { statusCode: HttpStatus.PAYMENT_REQUIRED, message, error: 'Payment Required' },
      HttpStatus.PAYMENT_REQUIRED,
    );
  }
}
