import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthenticatedRequest } from './authenticated-request';
import { IS_PUBLIC_KEY } from './public.decorator';
import { bearerToken } from './session-token';
import { SessionService } from './session.service';

/**
 * Global: every route needs `Authorization: Bearer <token>` of a live session unless marked
 * `@Public()`. Loads the session's user (with its role) onto the request for `@CurrentUser()`.
 */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly sessions: SessionService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;

    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = bearerToken(request.headers.authorization);
    if (!token) {
      throw new UnauthorizedException('Sign in first: send Authorization: Bearer <token>');
    }
    const auth = await this.sessions.authenticate(token);
    if (!auth) {
      throw new UnauthorizedException('Session expired or signed out; sign in again');
    }
    request.auth = auth;
    return true;
  }
}
