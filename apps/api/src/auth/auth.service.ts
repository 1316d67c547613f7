import {
  Injectable,
  NotFoundException,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import { JOB, JobProducer, maskEmail, QueueUnavailableError, User } from '@subscribernest/shared';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { normaliseEmail } from './login-code';
import { LoginCodeService } from './login-code.service';
import { SessionClient, SessionService } from './session.service';
import { UserRepository } from './user.repository';

/**
 * Sign-in by one-time email code. Mail is never sent here: the worker's `email` queue gets the
 * login code's id and reads the address and the (encrypted) code from Postgres. Logs name
 * addresses masked only, and never a code or token.
 */
@Injectable()
export class AuthService {
  constructor(
    private readonly codes: LoginCodeService,
    private readonly sessions: SessionService,
    private readonly users: UserRepository,
    private readonly queues: JobProducer,
    @InjectPinoLogger(AuthService.name) private readonly logger: PinoLogger,
  ) {}

  /**
   * Issues a code and queues its email, whether or not the address has an account. When Redis
   * cannot take the job the code is removed again and the caller gets an honest 503.
   */
  async sendCode(rawEmail: string, ip: string | null): Promise<void> {
    const email = normaliseEmail(rawEmail);
    const maskedEmail = maskEmail(email);
    const loginCode = await this.codes.issue(email, ip);
    try {
      await this.queues.add(JOB.loginCode, { loginCodeId: loginCode.id }, loginCode.id);
    } catch (error) {
      if (!(error instanceof QueueUnavailableError)) throw error;
      await this.codes.discard(loginCode.id);
      this.logger.warn(
        { loginCodeId: loginCode.id, maskedEmail, reason: error.message },
        'Sign-in code not sent: the email queue is unavailable',
      );
      throw new ServiceUnavailableException(
        'Sign-in emails cannot be sent right now; please try again in a minute',
      );
    }
    this.logger.info({ loginCodeId: loginCode.id, maskedEmail }, 'Sign-in code queued');
  }

  /** Exchanges a valid code for a new session (creating the account on first sign-in). */
  async verifyCode(
    rawEmail: string,
    code: string,
    client: SessionClient,
  ): Promise<{ token: string; user: User }> {
    const email = normaliseEmail(rawEmail);
    if (!(await this.codes.verify(email, code))) {
      this.logger.info({ maskedEmail: maskEmail(email) }, 'Sign-in code rejected');
      throw new UnauthorizedException('Invalid or expired code');
    }
    const { user, created } = await this.users.findOrCreateByEmail(email);
    const { token, session } = await this.sessions.start(user.id, client);
    this.logger.info({ userId: user.id, sessionId: session.id, created }, 'Signed in');
    await this.queueSignInNotification(user.id, session.id);
    return { token, user };
  }

  async logout(sessionId: string): Promise<void> {
    await this.sessions.revoke(sessionId);
    this.logger.info({ sessionId }, 'Signed out');
  }

  async logoutEverywhere(userId: string, sessionId: string): Promise<number> {
    const revoked = await this.sessions.revokeAllOf(userId);
    this.logger.info({ userId, sessionId, revoked }, 'Signed out everywhere');
    return revoked;
  }

  async completeOnboarding(userId: string): Promise<User> {
    const user = await this.users.markOnboarded(userId);
    if (!user) throw new NotFoundException('User not found');
    return user;
  }

  /**
   * The "new sign-in" email, at most once per session (job id = session id). Best effort: a Redis
   * outage must not undo a sign-in that already happened, so it is logged and skipped.
   */
  private async queueSignInNotification(userId: string, sessionId: string): Promise<void> {
    try {
      await this.queues.add(JOB.signInNotification, { userId, sessionId }, sessionId);
    } catch (error) {
      if (!(error instanceof QueueUnavailableError)) throw error;
      this.logger.warn(
        { userId, sessionId, reason: error.message },
        'Sign-in notification not queued: the email queue is unavailable',
      );
    }
  }
}
