import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoginCode, Session, User } from '@subscribernest/shared';
import { AUTH_POLICY, AuthPolicy } from './auth-policy';
import { AuthPolicyModule } from './auth-policy.module';
import { AuthThrottlerStorageModule } from './auth-throttler-storage.module';
import { AuthThrottlerStorage } from './auth-throttler.storage';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { LoginCodeRepository } from './login-code.repository';
import { LoginCodeService } from './login-code.service';
import { RolesGuard } from './roles.guard';
import { SessionGuard } from './session.guard';
import { SessionRepository } from './session.repository';
import { SessionService } from './session.service';
import { UserRepository } from './user.repository';

/**
 * Sign-in by email code, sessions, and the global guards: SessionGuard (401 unless `@Public()`)
 * then RolesGuard (403 unless the role fits). The per-IP throttler guards the public auth routes;
 * its counters are shared by every replica in Redis (AuthThrottlerStorage). The client's IP is
 * the one Express computes under TRUST_PROXY (configure-app.ts).
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([User, Session, LoginCode]),
    AuthPolicyModule,
    ThrottlerModule.forRootAsync({
      imports: [AuthPolicyModule, AuthThrottlerStorageModule],
      inject: [AUTH_POLICY, AuthThrottlerStorage],
      useFactory: (policy: AuthPolicy, storage: AuthThrottlerStorage) => ({
        throttlers: [{ ttl: policy.requestsPerIp.windowMs, limit: policy.requestsPerIp.limit }],
        errorMessage: 'Too many requests from this address; try again later',
        // Counted in Redis, so the limit holds across replicas (see AuthThrottlerStorage).
        storage,
      }),
    }),
  ],
  controllers: [AuthController],
  providers: [
    AuthService,
    LoginCodeService,
    SessionService,
    LoginCodeRepository,
    SessionRepository,
    UserRepository,
    { provide: APP_GUARD, useClass: SessionGuard },
    { provide: APP_GUARD, useClass: RolesGuard },
  ],
  exports: [UserRepository, SessionService],
})
export class AuthModule {}
