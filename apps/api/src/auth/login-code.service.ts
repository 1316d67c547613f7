import { timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { EncryptionService, LoginCode } from '@subscribernest/shared';
import { TooManyRequestsException } from '../http/too-many-requests.exception';
import { AUTH_POLICY, AuthPolicy } from './auth-policy';
import { newLoginCode } from './login-code';
import { LoginCodeRepository } from './login-code.repository';

/**
 * One-time sign-in codes: six random digits, verified by an HMAC bound to the address and kept
 * encrypted (for the worker to mail; the job carries the row's id only) until it is used, valid
 * for AuthPolicy.codeTtlMs, single use, dead after AuthPolicy.maxCodeAttempts wrong guesses. Only
 * an address's newest code counts. `email` is always normalised by the caller.
 */
@Injectable()
export class LoginCodeService {
  constructor(
    private readonly codes: LoginCodeRepository,
    private readonly encryption: EncryptionService,
    @Inject(AUTH_POLICY) private readonly policy: AuthPolicy,
  ) {}

  /** A new code for `email`, or 429 when the address had too many recently. */
  async issue(email: string, ip: string | null): Promise<LoginCode> {
    const code = newLoginCode();
    const result = await this.codes.issueWithinLimit(
      {
        email,
        codeHash: this.hash(email, code),
        codeEncrypted: this.encryption.encrypt(code),
        expiresAt: new Date(Date.now() + this.policy.codeTtlMs),
        requestedIp: ip?.slice(0, 64) ?? null,
      },
      this.policy.codesPerEmail,
    );
    if ('retryAfterSeconds' in result) {
      throw new TooManyRequestsException(
        'Too many sign-in codes were requested for this address; try again later',
        result.retryAfterSeconds,
      );
    }
    return result.issued;
  }

  /** True when `code` is the address's newest code, unexpired, unused and not locked; uses it up. */
  async verify(email: string, code: string): Promise<boolean> {
    const newest = await this.codes.newestFor(email);
    if (
      !newest ||
      newest.consumedAt !== null ||
      newest.failedAttempts >= this.policy.maxCodeAttempts ||
      newest.expiresAt.getTime() <= Date.now()
    ) {
      return false;
    }
    const expected = Buffer.from(newest.codeHash, 'utf8');
    const given = Buffer.from(this.hash(email, code), 'utf8');
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      await this.codes.recordFailedAttempt(newest.id, this.policy.maxCodeAttempts);
      return false;
    }
    return this.codes.consume(newest.id, this.policy.maxCodeAttempts);
  }

  /** Removes a code whose email never left (so it can neither sign in nor count as sent). */
  discard(id: string): Promise<void> {
    return this.codes.discard(id);
  }

  private hash(email: string, code: string): string {
    return this.encryption.hmac(`login-code:${email}:${code}`);
  }
}
