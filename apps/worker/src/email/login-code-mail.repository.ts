import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** Why a login-code job sends nothing. */
export type LoginCodeRefusal = 'missing' | 'consumed' | 'expired' | 'superseded' | 'no-code';

export type LoginCodeMail =
  | { sendable: true; email: string; codeEncrypted: string; expiresAt: Date }
  | { sendable: false; reason: LoginCodeRefusal };

/**
 * What the worker reads of `login_codes` to mail a code: the job names the row, the row says
 * whether its code may still go out. Only an address's newest, unused, unexpired code that still
 * holds its ciphertext is sent; anything else (a replayed, forged or stale job) is refused.
 */
@Injectable()
export class LoginCodeMailRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async find(loginCodeId: string): Promise<LoginCodeMail> {
    const [row] = await this.dataSource.query<
      {
        email: string;
        code_encrypted: string | null;
        expires_at: Date;
        consumed: boolean;
        expired: boolean;
        superseded: boolean;
      }[]
    >(
      `SELECT c.email, c.code_encrypted, c.expires_at,
              c.consumed_at IS NOT NULL AS consumed,
              c.expires_at <= now() AS expired,
              EXISTS (SELECT 1 FROM login_codes n
                       WHERE n.email = c.email AND n.created_at > c.created_at) AS superseded
         FROM login_codes c
        WHERE c.id = $1`,
      [loginCodeId],
    );
    if (!row) return { sendable: false, reason: 'missing' };
    if (row.consumed) return { sendable: false, reason: 'consumed' };
    if (row.expired) return { sendable: false, reason: 'expired' };
    if (row.superseded) return { sendable: false, reason: 'superseded' };
    // Already mailed, locked after too many wrong guesses, or issued before codes were kept.
    if (row.code_encrypted === null) return { sendable: false, reason: 'no-code' };
    return {
      sendable: true,
      email: row.email,
      codeEncrypted: row.code_encrypted,
      expiresAt: row.expires_at,
    };
  }

  /** Clears the ciphertext once the code is mailed (or can never be): nobody needs it any more. */
  async dropCode(loginCodeId: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE login_codes SET code_encrypted = NULL
        WHERE id = $1 AND code_encrypted IS NOT NULL`,
      [loginCodeId],
    );
  }
}
