import {
  ArgumentMetadata,
  BadRequestException,
  HttpStatus,
  ValidationError,
  ValidationPipe,
} from '@nestjs/common';
import { checkInput, InputSource } from './input-guard';

const SOURCES: Partial<Record<ArgumentMetadata['type'], InputSource>> = {
  body: 'Request body',
  query: 'Query string',
  param: 'Route parameter',
};

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
 * (they may be codes or addresses). Before any of that, a body, query or route parameter nested
 * too deeply or holding text that is not valid Unicode is a 400 naming it (input-guard.ts): the
 * transform and the validators would otherwise overflow the stack or throw on it.
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

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const source = SOURCES[metadata.type];
    const problem = source && checkInput(value, source, metadata.data ?? '');
    if (problem) throw problem;
    return super.transform(value, metadata) as Promise<unknown>;
  }
}
