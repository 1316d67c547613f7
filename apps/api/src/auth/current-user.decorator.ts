import { createParamDecorator, ExecutionContext, UnauthorizedException } from '@nestjs/common';
import { User } from '@subscribernest/shared';
import { AuthenticatedRequest } from './authenticated-request';

/** The signed-in user (role included), as loaded by SessionGuard for this request. */
export const CurrentUser = createParamDecorator((_: unknown, context: ExecutionContext): User => {
  const auth = context.switchToHttp().getRequest<AuthenticatedRequest>().auth;
  if (!auth) throw new UnauthorizedException('Sign in first');
  return auth.user;
});
