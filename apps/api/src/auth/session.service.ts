import { Inject, Injectable } from '@nestjs/common';
import { Session } from '@subscribernest/shared';
import { AUTH_POLICY, AuthPolicy } from './auth-policy';
import { AuthContext } from './authenticated-request';
import { hashSessionToken, newSessionToken } from './session-token';
import { SessionRepository } from './session.repository';

export interface SessionClient {
  ip: string | null;
  userAgent: string | null;
}

/** Opaque bearer sessions: the token goes to the client once; the database keeps its SHA-256. */
@Injectable()
export class SessionService {
  constructor(
    private readonly sessions: SessionRepository,
    @Inject(AUTH_POLICY) private readonly policy: AuthPolicy,
  ) {}

  async start(userId: string, client: SessionClient): Promise<{ token: string; session: Session }> {
    const token = newSessionToken();
    const session = await this.sessions.create({
      userId,
      tokenHash: hashSessionToken(token),
      expiresAt: new Date(Date.now() + this.policy.sessionTtlMs),
      ip: client.ip?.slice(0, 64) ?? null,
      userAgent: client.userAgent?.slice(0, 512) ?? null,
    });
    return { token, session };
  }

  /** Who holds `token`, if it belongs to a session that is neither revoked nor expired. */
  async authenticate(token: string): Promise<AuthContext | null> {
    const session = await this.sessions.findActiveByTokenHash(hashSessionToken(token));
    return session ? { user: session.user, sessionId: session.id } : null;
  }

  /**
   * Who holds the live session `sessionId`, for credentials derived from a session (the Bull
   * Board cookie), so revoking the session revokes them too.
   */
  async authenticateSessionId(sessionId: string): Promise<AuthContext | null> {
    const session = await this.sessions.findActiveById(sessionId);
    return session ? { user: session.user, sessionId: session.id } : null;
  }

  revoke(sessionId: string): Promise<void> {
    return this.sessions.revoke(sessionId);
  }

  /** Signs the user out everywhere: every token (and board cookie) of theirs stops working. */
  revokeAllOf(userId: string): Promise<number> {
    return this.sessions.revokeAllOf(userId);
  }

  /** Signs the user out everywhere but `keepSessionId` (the session asking). */
  revokeOthersOf(userId: string, keepSessionId: string): Promise<number> {
    return this.sessions.revokeOthersOf(userId, keepSessionId);
  }
}
