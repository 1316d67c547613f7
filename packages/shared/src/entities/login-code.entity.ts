import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** A one-time sign-in code. Only its hash is stored; the code itself lives in the email. */
@Entity({ name: 'login_codes' })
@Index('login_codes_email_created_at_idx', ['email', 'createdAt'])
export class LoginCode {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'login_codes_pkey' })
  id: string;

  /** Lower-cased address the code was sent to (the user may not exist yet). */
  @Column({ type: 'varchar', length: 320 })
  email: string;

  @Column({ name: 'code_hash', type: 'varchar', length: 128 })
  codeHash: string;

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
