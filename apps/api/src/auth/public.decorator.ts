import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import { PUBLIC_EXTENSION } from '../http/openapi';

export const IS_PUBLIC_KEY = 'auth:public';

/**
 * Opens a route (or a whole controller) to callers without a session. Every other route answers
 * 401 without a valid bearer token (SessionGuard is global); the OpenAPI document follows suit.
 */
export const Public = () =>
  applyDecorators(SetMetadata(IS_PUBLIC_KEY, true), ApiExtension(PUBLIC_EXTENSION, true));
