import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthModule } from '../auth/auth.module';
import { accountDeletionPolicyProvider } from './account-deletion-policy';
import { AccountDeletionGuard } from './account-deletion.guard';
import { AccountController } from './account.controller';
import { AccountService } from './account.service';

/**
 * Account deletion requests and their grace period. AccountDeletionGuard is global and must run
 * after the auth guards, so AppModule imports this module after AuthModule (it fails closed
 * otherwise: every signed-in request would answer 401).
 */
@Module({
  imports: [AuthModule],
  controllers: [AccountController],
  providers: [
    accountDeletionPolicyProvider,
    AccountService,
    { provide: APP_GUARD, useClass: AccountDeletionGuard },
  ],
  exports: [accountDeletionPolicyProvider],
})
export class AccountModule {}
