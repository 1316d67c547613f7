import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A one-time sign-in code. `codeHash` verifies it; `codeEncrypted` is what the worker sends, so the
 * email job carries only this row's id. The ciphertext is cleared once the code is used, locked,
 * superseded by a newer code or expired.
 */
@Entity({ name: 'login_codes' })
@Index('login_codes_email_created_at_idx', ['email', 'createdAt'])
// Data retention: rows past RETENTION_LOGIN_CODES_DAYS, and expired codes still holding a ciphertext.
@Index('login_codes_created_at_idx', ['createdAt'])
@Index('login_codes_ciphertext_expires_at_idx', ['expiresAt'], {
  where: `"code_encrypted" IS NOT NULL`,
})
export class LoginCode {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'login_codes_pkey' })
  id: string;

  /** Lower-cased address the code was sent to (the user may not exist yet). */
  @Column({ type: 'varchar', length: 320 })
  email: string;

  @Column({ name: 'code_hash', type: 'varchar', length: 128 })
  codeHash: string;

  @Column({ name: 'code_encrypted', type: 'text', nullable: true })
  codeEncrypted: string | null;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'failed_attempts', type: 'integer', default: 0 })
  failedAttempts: number;

  @Column({ name: 'consumed_at', type: 'timestamptz', nullable: true })
  consumedAt: Date | null;

  @Column({ name: 'requested_ip', type: 'varchar', length: 64, nullable: true })
  requestedIp: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
