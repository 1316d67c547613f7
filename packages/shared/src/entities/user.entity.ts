import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

export const USER_ROLES = ['user', 'admin'] as const;
export type UserRole = (typeof USER_ROLES)[number];

@Entity({ name: 'users' })
@Check('users_role_check', `"role" IN ('user', 'admin')`)
// Emails are unique whatever their case. TypeORM cannot express an index on lower(email), so the
// migration creates it and `synchronize: false` keeps schema diffs from dropping it.
@Index('users_email_lower_key', { synchronize: false })
export class User {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'users_pkey' })
  id: string;

  @Column({ type: 'varchar', length: 320 })
  email: string;

  @Column({ type: 'varchar', length: 16, default: 'user' })
  role: UserRole;

  @Column({ name: 'is_onboarded', type: 'boolean', default: false })
  isOnboarded: boolean;

  @Column({ name: 'delete_requested_at', type: 'timestamptz', nullable: true })
  deleteRequestedAt: Date | null;

  /** Set when the worker begins deleting the account: from then on it cannot be cancelled. */
  @Column({ name: 'deletion_started_at', type: 'timestamptz', nullable: true })
  deletionStartedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
