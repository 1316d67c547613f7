import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Session, User } from '@subscribernest/shared';
import { IsNull, Not, Repository } from 'typeorm';

export type NewSession = Pick<Session, 'userId' | 'tokenHash' | 'expiresAt' | 'ip' | 'userAgent'>;

/** Queries on `sessions`: bearer tokens are looked up by their SHA-256 only. */
@Injectable()
export class SessionRepository {
  constructor(@InjectRepository(Session) private readonly sessions: Repository<Session>) {}

  create(values: NewSession): Promise<Session> {
    return this.sessions.save(this.sessions.create({ ...values, revokedAt: null }));
  }

  /** The session with this token hash, with its user, if it is neither revoked nor expired. */
  findActiveByTokenHash(tokenHash: string): Promise<(Session & { user: User }) | null> {
    return this.sessions
      .createQueryBuilder('session')
      .innerJoinAndSelect('session.user', 'user')
      .where('session.tokenHash = :tokenHash', { tokenHash })
      .andWhere('session.revokedAt IS NULL')
      .andWhere('session.expiresAt > now()')
      .getOne() as Promise<(Session & { user: User }) | null>;
  }

  /** The session with this id, with its user, if it is neither revoked nor expired. */
  findActiveById(id: string): Promise<(Session & { user: User }) | null> {
    return this.sessions
      .createQueryBuilder('session')
      .innerJoinAndSelect('session.user', 'user')
      .where('session.id = :id', { id })
      .andWhere('session.revokedAt IS NULL')
      .andWhere('session.expiresAt > now()')
      .getOne() as Promise<(Session & { user: User }) | null>;
  }

  /** Revokes every live session of a user; how many there were. */
  async revokeAllOf(userId: string): Promise<number> {
    const result = await this.sessions.update(
      { userId, revokedAt: IsNull() },
      { revokedAt: () => 'now()' },
    );
    return result.affected ?? 0;
  }

  /** Revokes every live session of a user but `keepId`; how many there were. */
  async revokeOthersOf(userId: string, keepId: string): Promise<number> {
    const result = await this.sessions.update(
      { userId, id: Not(keepId), revokedAt: IsNull() },
      { revokedAt: () => 'now()' },
    );
    return result.affected ?? 0;
  }

  /** Revokes a session (idempotent): its token stops working at once. */
  async revoke(id: string): Promise<void> {
    await this.sessions.update({ id, revokedAt: IsNull() }, { revokedAt: () => 'now()' });
  }
}
