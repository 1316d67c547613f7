import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { UserRole } from '@subscribernest/shared';
import { AuthenticatedRequest } from './authenticated-request';
import { ROLES_KEY } from './roles.decorator';

/** Global, after SessionGuard: routes marked `@Roles(...)` / `@AdminOnly()` need that role. */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const roles = this.reflector.getAllAndOverride<UserRole[] | undefined>(ROLES_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!roles || roles.length === 0) return true;
    const user = context.switchToHttp().getRequest<AuthenticatedRequest>().auth?.user;
    if (!user) throw new UnauthorizedException('Sign in first');
    if (!roles.includes(user.role)) {
      throw new ForbiddenException(`This needs the ${roles.join(' or ')} role`);
    }
    return true;
  }
}
