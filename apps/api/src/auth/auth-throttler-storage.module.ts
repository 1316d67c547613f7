import { Module } from '@nestjs/common';
import { AuthThrottlerStorage } from './auth-throttler.storage';

/** Provides AuthThrottlerStorage (a module of its own so the throttler's factory can inject it). */
@Module({
  providers: [AuthThrottlerStorage],
  exports: [AuthThrottlerStorage],
})
export class AuthThrottlerStorageModule {}
