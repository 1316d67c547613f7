import { ClassConstructor, plainToInstance } from 'class-transformer';
import { ValidationError, validateSync } from 'class-validator';
import { ConfigValidationError } from './config-validation.error';

function describe(errors: ValidationError[]): string[] {
  return errors.flatMap((error) => {
    if (error.value === undefined || error.value === '') {
      return [`${error.property} is required`];
    }
    // Constraint messages name the variable and the expected shape, never the value.
    return Object.values(error.constraints ?? { invalid: `${error.property} is invalid` });
  });
}

/**
 * Turns raw environment strings into a typed, validated settings object. Defaults come from the
 * schema's property initialisers; empty strings count as unset.
 */
export function validateEnv<T extends object>(
  schema: ClassConstructor<T>,
  raw: Record<string, unknown>,
): T {
  const present = Object.fromEntries(
    Object.entries(raw).filter(([, value]) => value !== undefined && value !== ''),
  );
  const env = plainToInstance(schema, present, { exposeDefaultValues: true });
  const errors = validateSync(env, { skipMissingProperties: false, whitelist: false });
  if (errors.length > 0) throw new ConfigValidationError(describe(errors));
  return env;
}
