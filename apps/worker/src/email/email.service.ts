import { Injectable } from '@nestjs/common';
import {
  counterOf,
  DecryptionError,
  describeJobError,
  EncryptionService,
  JOB,
  JobPayloads,
  maskEmail,
  METRICS,
} from '@subscribernest/shared';
import { Job, UnrecoverableError } from 'bullmq';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { renderLoginCode, renderSignInNotification } from './email-templates';
import { LoginCodeMailRepository, LoginCodeRefusal } from './login-code-mail.repository';
import { Delivery, MailerService, OutgoingEmail } from './mailer.service';
import { SignInNoticeRepository } from './sign-in-notice.repository';

type LoginCodeJob = JobPayloads[typeof JOB.loginCode];
type SignInNotificationJob = JobPayloads[typeof JOB.signInNotification];

const REFUSALS: Record<LoginCodeRefusal | 'no-session', string> = {
  missing: 'the login code does not exist',
  consumed: 'the login code was already used',
  expired: 'the login code expired before it could be sent',
  superseded: 'a newer code was requested for the address',
  'no-code':
    'the login code holds nothing to send (already sent, locked, or issued before codes were kept)',
  'no-session': 'the session does not exist (signed-in user deleted?)',
};

/** What a handler reports back (kept as the job's return value: no address, no code). */
export type EmailResult =
  | { status: 'sent'; via: Delivery['via'] }
  | { status: 'refused'; reason: LoginCodeRefusal | 'no-session' };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The `email` queue's work. A job names a row (login code, session) and nothing else; the
 * recipient and the content are read from Postgres, so a job added or edited by whoever can reach
 * Redis can neither pick the address nor resend a code that is no longer valid. Logs carry masked
 * addresses only, never a code.
 */
@Injectable()
export class EmailService {
  /** Sent or refused by the SMTP server, by kind (the job name). */
  private readonly emails = counterOf(METRICS.emails);

  constructor(
    private readonly encryption: EncryptionService,
    private readonly mailer: MailerService,
    private readonly loginCodes: LoginCodeMailRepository,
    private readonly sessions: SignInNoticeRepository,
    @InjectPinoLogger(EmailService.name) private readonly logger: PinoLogger,
  ) {}

  async sendLoginCode(data: LoginCodeJob, job: Job): Promise<EmailResult> {
    const found = UUID.test(String(data.loginCodeId))
      ? await this.loginCodes.find(data.loginCodeId)
      : ({ sendable: false, reason: 'missing' } as const);
    if (!found.sendable) {
      // An expired or superseded code's ciphertext has no use left either.
      if (found.reason === 'expired' || found.reason === 'superseded') {
        await this.loginCodes.dropCode(data.loginCodeId);
      }
      return this.refuse(job, { loginCodeId: data.loginCodeId }, found.reason);
    }
    const context = {
      jobId: job.id,
      loginCodeId: data.loginCodeId,
      maskedEmail: maskEmail(found.email),
    };
    const code = this.decrypt(found.codeEncrypted);
    const remainingMs = found.expiresAt.getTime() - Date.now();
    const rendered = renderLoginCode({
      code,
      validMinutes: Math.max(1, Math.ceil(remainingMs / 60_000)),
    });
    const result = await this.deliver(job, context, {
      ...rendered,
      to: found.email,
      key: `login-code-${data.loginCodeId}`,
    });
    // Mailed: the code now lives in the inbox only. A second run of this job sends nothing.
    await this.loginCodes.dropCode(data.loginCodeId);
    return result;
  }

  async sendSignInNotification(data: SignInNotificationJob, job: Job): Promise<EmailResult> {
    const ids = { userId: data.userId, sessionId: data.sessionId };
    const notice =
      UUID.test(String(data.userId)) && UUID.test(String(data.sessionId))
        ? await this.sessions.find(data.userId, data.sessionId)
        : null;
    if (!notice) return this.refuse(job, ids, 'no-session');
    const context = { jobId: job.id, ...ids, maskedEmail: maskEmail(notice.email) };
    const rendered = renderSignInNotification({
      signedInAt: notice.signedInAt,
      ip: notice.ip,
      userAgent: notice.userAgent,
    });
    return this.deliver(job, context, {
      ...rendered,
      to: notice.email,
      key: `sign-in-notification-${data.sessionId}`,
    });
  }

  /** No send, and no retry: the row will not become valid again. */
  private refuse(
    job: Job,
    ids: Record<string, unknown>,
    reason: LoginCodeRefusal | 'no-session',
  ): EmailResult {
    this.logger.warn(
      { jobId: job.id, jobName: job.name, ...ids, reason },
      `email not sent: ${REFUSALS[reason]}`,
    );
    return { status: 'refused', reason };
  }

  private async deliver(
    job: Job,
    context: Record<string, unknown>,
    email: OutgoingEmail,
  ): Promise<EmailResult> {
    let delivery: Delivery;
    try {
      delivery = await this.mailer.send(email);
    } catch (error) {
      this.emails.inc({ kind: job.name, outcome: 'failed' });
      const attempt = job.attemptsMade + 1;
      const maxAttempts = job.opts.attempts ?? 1;
      const fields = { ...context, attempt, maxAttempts, error: describeJobError(error) };
      if (attempt >= maxAttempts) {
        this.logger.error(fields, 'email not delivered: no attempts left, job is dead');
      } else {
        this.logger.warn(fields, 'email not delivered; it will be retried');
      }
      throw error;
    }
    this.emails.inc({ kind: job.name, outcome: 'sent' });
    if (delivery.via === 'file') {
      this.logger.info(
        { ...context, path: delivery.path },
        'email written to the outbox folder (no SMTP_URL)',
      );
    } else {
      this.logger.info({ ...context, messageId: delivery.messageId }, 'email sent');
    }
    return { status: 'sent', via: delivery.via };
  }

  /** A code that cannot be decrypted (key gone) never will be: fail the job without retries. */
  private decrypt(value: string): string {
    try {
      return this.encryption.decrypt(value);
    } catch (error) {
      if (error instanceof DecryptionError) {
        throw new UnrecoverableError(`login code: ${error.message}`);
      }
      throw error;
    }
  }
}
