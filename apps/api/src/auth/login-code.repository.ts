import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LoginCode } from '@subscribernest/shared';
import { IsNull, LessThan, Raw, Repository } from 'typeorm';

export type NewLoginCode = Pick<
  LoginCode,
  'email' | 'codeHash' | 'codeEncrypted' | 'expiresAt' | 'requestedIp'
>;

export type IssueResult = { issued: LoginCode } | { retryAfterSeconds: number };

/**
 * Queries on `login_codes`; `email` is already normalised. The code's ciphertext is kept only
 * while the code can still be mailed and used: every write that ends a code clears it.
 */
@Injectable()
export class LoginCodeRepository {
  constructor(@InjectRepository(LoginCode) private readonly codes: Repository<LoginCode>) {}

  /**
   * Inserts a code unless `limit` codes were already issued to the address within the window; then
   * says how many seconds until the oldest of them leaves it. An advisory lock per address makes
   * count-then-insert safe when requests race (and across api replicas).
   */
  issueWithinLimit(
    values: NewLoginCode,
    limit: { limit: number; windowMs: number },
  ): Promise<IssueResult> {
    return this.codes.manager.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
        `login_codes:${values.email}`,
      ]);
      const [window] = await manager.query<{ count: number; retry_after: number | null }[]>(
        `SELECT count(*)::int AS count,
                ceil(extract(epoch FROM min(created_at) + make_interval(secs => $2) - now()))::int
                  AS retry_after
           FROM login_codes
          WHERE email = $1 AND created_at > now() - make_interval(secs => $2)`,
        [values.email, limit.windowMs / 1000],
      );
      if (window && window.count >= limit.limit) {
        return { retryAfterSeconds: Math.max(1, window.retry_after ?? 1) };
      }
      // Only the newest code signs in, so older ones will never be mailed or used again.
      await manager.query(
        `UPDATE login_codes SET code_encrypted = NULL
          WHERE email = $1 AND code_encrypted IS NOT NULL`,
        [values.email],
      );
      // created_at from the clock, not now() (the transaction's start): codes of one address are
      // then ordered as they took the lock, so the newest row is the one whose code was kept.
      const inserted = await manager
        .createQueryBuilder()
        .insert()
        .into(LoginCode)
        .values({ ...values, createdAt: () => 'clock_timestamp()' })
        .returning('id')
        .execute();
      const id = (inserted.identifiers[0] as { id: string }).id;
      const issued = await manager.findOneByOrFail(LoginCode, { id });
      return { issued };
    });
  }

  /** The address's most recent code: the only one that can sign in. */
  newestFor(email: string): Promise<LoginCode | null> {
    return this.codes.findOne({ where: { email }, order: { createdAt: 'DESC' } });
  }

  /** Counts a wrong guess, never beyond `maxAttempts`; the last one locks the code for good. */
  async recordFailedAttempt(id: string, maxAttempts: number): Promise<void> {
    await this.codes.update(
      { id, consumedAt: IsNull(), failedAttempts: LessThan(maxAttempts) },
      {
        failedAttempts: () => 'failed_attempts + 1',
        codeEncrypted: () =>
          `CASE WHEN failed_attempts + 1 >= ${Number(maxAttempts)} THEN NULL ELSE code_encrypted END`,
      },
    );
  }

  /** Uses the code up. True only for the one caller that consumed a still valid code. */
  async consume(id: string, maxAttempts: number): Promise<boolean> {
    const result = await this.codes.update(
      {
        id,
        consumedAt: IsNull(),
        failedAttempts: LessThan(maxAttempts),
        expiresAt: Raw((column) => `${column} > now()`),
      },
      { consumedAt: () => 'now()', codeEncrypted: null },
    );
    return result.affected === 1;
  }

  /** Removes a code that was never sent (its email could not be queued). */
  async discard(id: string): Promise<void> {
    await this.codes.delete({ id });
  }
}
