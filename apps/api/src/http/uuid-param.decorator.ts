import { BadRequestException, Param, ParseUUIDPipe } from '@nestjs/common';

/** A pipe that accepts a UUID (any version) and answers 400 naming `name` otherwise. */
export function uuidPipe(name: string): ParseUUIDPipe {
  return new ParseUUIDPipe({
    exceptionFactory: () => new BadRequestException(`${name} must be a UUID`),
  });
}

/**
 * A route parameter that must be a UUID: `@UuidParam('id') id: string`. Anything else answers
 * 400 before it can reach a query (Postgres would otherwise reject it with a 500).
 */
export const UuidParam = (name = 'id'): ParameterDecorator => Param(name, uuidPipe(name));
