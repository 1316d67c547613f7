import { BadRequestException, HttpStatus, ValidationError, ValidationPipe } from '@nestjs/common';

/** Messages per field path (`email`, `items.0.name`), children included. */
export function fieldMessages(errors: ValidationError[], parent = ''): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  for (const error of errors) {
    const path = parent ? `${parent}.${error.property}` : error.property;
    const messages = Object.values(error.constraints ?? {});
    if (messages.length > 0) fields[path] = messages;
    Object.assign(fields, fieldMessages(error.children ?? [], path));
  }
  return fields;
}

/**
 * The global validation: unknown fields are rejected (not silently dropped), payloads are turned
 * into their DTO classes, and a failure is a 400 naming each field. Values are never echoed back
 * (they may be codes or addresses).
 */
export class ApiValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => {
        const fields = fieldMessages(errors);
        return new BadRequestException({
          statusCode: HttpStatus.BAD_REQUEST,
          message: Object.values(fields).flat(),
          error: 'Bad Request',
          fields,
        });
      },
    });
  }
}
