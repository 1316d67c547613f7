import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { User } from '@subscribernest/shared';
import { IsNull, Repository } from 'typeorm';

/** Queries on `users`. Addresses are matched case-insensitively (`users_email_lower_key`). */
@Injectable()
export class UserRepository {
  constructor(@InjectRepository(User) private readonly users: Repository<User>) {}

  findById(id: string): Promise<User | null> {
    return this.users.findOneBy({ id });
  }

  findByEmail(email: string): Promise<User | null> {
    return this.users
      .createQueryBuilder('user')
      .where('lower(user.email) = lower(:email)', { email })
      .getOne();
  }

  /** The account for `email`, created on first sign-in; safe when two sign-ins race. */
  async findOrCreateByEmail(email: string): Promise<{ user: User; created: boolean }> {
    const existing = await this.findByEmail(email);
    if (existing) return { user: existing, created: false };
    const inserted = await this.users
      .createQueryBuilder()
      .insert()
      .into(User)
      .values({ email })
      .orIgnore()
      .execute();
    const user = await this.findByEmail(email);
    if (!user) throw new Error('The user row is missing right after its insert');
    return { user, created: (inserted.raw as unknown[]).length > 0 };
  }

  /**
   * Records a deletion request and returns the user; a pending request keeps its first date, so
   * asking twice never postpones the deletion.
   */
  async requestDeletion(id: string): Promise<User | null> {
    await this.users
      .createQueryBuilder()
      .update(User)
      .set({ deleteRequestedAt: () => 'COALESCE(delete_requested_at, now())' })
      .where('id = :id', { id })
      .execute();
    return this.findById(id);
  }

  /**
   * Withdraws a pending deletion request (idempotent) unless the worker has begun deleting the
   * account; `started` then, and nothing changes.
   */
  async cancelDeletion(id: string): Promise<{ user: User | null; started: boolean }> {
    const result = await this.users.update(
      { id, deletionStartedAt: IsNull() },
      { deleteRequestedAt: null },
    );
    const user = await this.findById(id);
    return { user, started: result.affected === 0 && user?.deletionStartedAt != null };
  }

  /** Marks onboarding done (idempotent) and returns the updated user. */
  async markOnboarded(id: string): Promise<User | null> {
    await this.users.update({ id }, { isOnboarded: true });
    return this.findById(id);
  }
}
