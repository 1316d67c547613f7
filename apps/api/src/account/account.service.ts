import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import { User } from '@subscribernest/shared';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
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
    @Inject(ACCOUNT_DELETION_POLICY) private readonly policy: AccountDeletionPolicy,
    @InjectPinoLogger(AccountService.name) private readonly logger: PinoLogger,
  ) {}

  /** Records the request (a pending one keeps its date) and says when deletion will happen. */
  async requestDeletion(userId: string): Promise<{ user: User; deletionScheduledFor: Date }> {
    const user = await this.users.requestDeletion(userId);
    if (!user?.deleteRequestedAt) throw new NotFoundException('Account not found');
    const deletionScheduledFor = deletionDate(user.deleteRequestedAt, this.policy);
    this.logger.info(
      { userId, deletionScheduledFor: deletionScheduledFor.toISOString() },
      'Account deletion requested',
    );
    return { user, deletionScheduledFor };
  }

  /** Withdraws a pending request; without one, nothing changes. */
  async cancelDeletion(userId: string): Promise<User> {
    const user = await this.users.cancelDeletion(userId);
    if (!user) throw new NotFoundException('Account not found');
    this.logger.info({ userId }, 'Account deletion cancelled');
    return user;
  }
}
