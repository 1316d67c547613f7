import { createParamDecorator, ExecutionContext, UnauthorizedException } from '@nestjs/common';
import { AuthContext, AuthenticatedRequest } from './authenticated-request';

/** The caller's user and session id (e.g. to sign this session out). */
export const CurrentSession = createParamDecorator(
  (_: unknown, context: ExecutionContext): AuthContext => {
    const auth = context.switchToHttp().getRequest<AuthenticatedRequest>().auth;
    if (!auth) throw new UnauthorizedException('Sign in first');
    return auth;
  },
);
