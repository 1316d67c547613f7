import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ErrorResponseDto } from './error-response.dto';

/** Name of the bearer security scheme in the document. */
export const BEARER_AUTH = 'bearer';

/** Operation extension set by `@Public()`: the route needs no token (see `markSecurity`). */
export const PUBLIC_EXTENSION = 'x-public';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/**
 * Every route is guarded unless marked `@Public()`, so the document says the same: each
 * operation requires the bearer token (and may answer 401) unless it carries PUBLIC_EXTENSION,
 * in which case it requires nothing.
 */
export function markSecurity(document: OpenAPIObject): OpenAPIObject {
  const errorSchema = { $ref: `#/components/schemas/${ErrorResponseDto.name}` };
  for (const item of Object.values(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method] as (typeof item)[typeof method] & Record<string, unknown>;
      if (!operation) continue;
      if (operation[PUBLIC_EXTENSION]) {
        operation.security = [];
        delete operation[PUBLIC_EXTENSION];
        continue;
      }
      operation.security ??= [{ [BEARER_AUTH]: [] }];
      operation.responses['401'] ??= {
        description: 'Missing, invalid, expired or revoked session token',
        content: { 'application/json': { schema: errorSchema } },
      };
    }
  }
  return document;
}

/** The OpenAPI document of every route and DTO the app has. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('SubscriberNest API')
    .setDescription(
      'Sign in with a one-time code sent by email (`POST /auth/send-code`, then ' +
        '`POST /auth/verify-code`), then send the returned token as `Authorization: Bearer <token>`.',
    )
    .setVersion('1.0')
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        // Nest's default says JWT; ours is a random token the api looks up (and can revoke).
        bearerFormat: 'opaque',
        description:
          'Opaque session token from POST /auth/verify-code (not a JWT: it carries no claims and ' +
          'is checked against the sessions table, so sign-out revokes it at once)',
      },
      BEARER_AUTH,
    )
    .build();
  return markSecurity(
    SwaggerModule.createDocument(app, config, { extraModels: [ErrorResponseDto] }),
  );
}

/** Swagger UI at `/docs`, the document at `/docs-json` (built on first request). */
export function setupOpenApi(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    customSiteTitle: 'SubscriberNest API',
    swaggerOptions: { persistAuthorization: true },
    raw: ['json'],
  });
}
