import { Module } from '@nestjs/common';
import { AUTH_POLICY, DEFAULT_AUTH_POLICY } from './auth-policy';

/** Provides AUTH_POLICY (a module of its own so the throttler's factory can inject it too). */
@Module({
  providers: [{ provide: AUTH_POLICY, useValue: DEFAULT_AUTH_POLICY }],
  exports: [AUTH_POLICY],
})
export class AuthPolicyModule {}
