import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface SignInNotice {
  email: string;
  signedInAt: Date;
  ip: string | null;
  userAgent: string | null;
}

/** What a "new sign-in" email says, read from the session its job names (and its user). */
@Injectable()
export class SignInNoticeRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Null when the session is gone or belongs to someone else (its user deleted, a forged job). */
  async find(userId: string, sessionId: string): Promise<SignInNotice | null> {
    const [row] = await this.dataSource.query<
      { email: string; created_at: Date; ip: string | null; user_agent: string | null }[]
    >(
      `SELECT u.email, s.created_at, s.ip, s.user_agent
         FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.id = $1 AND s.user_id = $2`,
      [sessionId, userId],
    );
    if (!row) return null;
    return { email: row.email, signedInAt: row.created_at, ip: row.ip, userAgent: row.user_agent };
  }
}
