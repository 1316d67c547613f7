import { ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { User } from '@subscribernest/shared';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { SessionService } from '../auth/session.service';
import { UserRepository } from '../auth/user.repository';
import {
  ACCOUNT_DELETION_POLICY,
  AccountDeletionPolicy,
  deletionDate,
} from './account-deletion-policy';

/**
 * Account deletion requests. The api only records the request; the worker's daily
 * account-deletion cron deletes accounts whose request is older than the grace period.
 */
@Injectable()
export class AccountService {
  constructor(
    private readonly users: UserRepository,
    private readonly sessions: SessionService,
    @Inject(ACCOUNT_DELETION_POLICY) private readonly policy: AccountDeletionPolicy,
    @InjectPinoLogger(AccountService.name) private readonly logger: PinoLogger,
  ) {}

  /**
   * Records the request (a pending one keeps its date), revokes every other session of the user
   * at once (the asking one stays, so the owner can still export and cancel during the grace
   * period) and says when deletion will happen.
   */
  async requestDeletion(
    userId: string,
    sessionId: string,
  ): Promise<{ user: User; deletionScheduledFor: Date; revokedSessions: number }> {
    const user = await this.users.requestDeletion(userId);
    if (!user?.deleteRequestedAt) throw new NotFoundException('Account not found');
    const revokedSessions = await this.sessions.revokeOthersOf(userId, sessionId);
    const deletionScheduledFor = deletionDate(user.deleteRequestedAt, this.policy);
    this.logger.info(
      { userId, deletionScheduledFor: deletionScheduledFor.toISOString(), revokedSessions },
      'Account deletion requested',
    );
    return { user, deletionScheduledFor, revokedSessions };
  }

  /** Withdraws a pending request; without one, nothing changes; 409 once deletion has begun. */
  async cancelDeletion(userId: string): Promise<User> {
    const { user, started } = await this.users.cancelDeletion(userId);
    if (!user) throw new NotFoundException('Account not found');
    if (started) {
      throw new ConflictException(
        'The deletion of this account is already under way and can no longer be cancelled',
      );
    }
    this.logger.info({ userId }, 'Account deletion cancelled');
    return user;
  }
}
