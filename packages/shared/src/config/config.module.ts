import { DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { ClassConstructor } from 'class-transformer';
import { validateEnv } from './validate-env';

/**
 * `@nestjs/config`, global, validated against one of our schemas. Values from the process
 * environment win over `.env` files (the service's own, then the repository root's).
 */
export function validatedConfigModule<T extends object>(
  schema: ClassConstructor<T>,
): Promise<DynamicModule> {
  return ConfigModule.forRoot({
    isGlobal: true,
    cache: true,
    envFilePath: ['.env', '../../.env'],
    validate: (raw) => validateEnv(schema, raw),
  });
}
