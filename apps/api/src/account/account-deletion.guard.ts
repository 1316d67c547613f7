import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthenticatedRequest } from '../auth/authenticated-request';
import { IS_PUBLIC_KEY } from '../auth/public.decorator';
import {
  ACCOUNT_DELETION_POLICY,
  AccountDeletionPolicy,
  deletionDate,
} from './account-deletion-policy';
import { ALLOWED_DURING_DELETION_KEY } from './allowed-during-deletion.decorator';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Global, after SessionGuard and RolesGuard: while the caller's account waits for deletion, only
 * reads and the routes marked `@AllowedDuringDeletion()` run; any other mutating route answers
 * 403. It fails closed: a guarded route reaching it without a signed-in caller is a 401.
 */
@Injectable()
export class AccountDeletionGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(ACCOUNT_DELETION_POLICY) private readonly policy: AccountDeletionPolicy,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, targets)) return true;

    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const user = request.auth?.user;
    if (!user) throw new UnauthorizedException('Sign in first');
    if (!user.deleteRequestedAt || READ_METHODS.has(request.method ?? 'GET')) return true;
    if (
      this.reflector.getAllAndOverride<boolean | undefined>(ALLOWED_DURING_DELETION_KEY, targets)
    ) {
      return true;
    }
    const on = deletionDate(user.deleteRequestedAt, this.policy).toISOString();
    throw new ForbiddenException(
      `This account is scheduled for deletion on ${on}. Until then you can only read and ` +
        'export your data and sign out; cancel the deletion (POST /account/delete/cancel) to ' +
        'make changes again',
    );
  }
}
