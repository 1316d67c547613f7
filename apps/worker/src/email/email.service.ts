import { Injectable } from '@nestjs/common';
import {
  DecryptionError,
  EncryptionService,
  JOB,
  JobPayloads,
  maskEmail,
} from '@subscribernest/shared';
import { Job, UnrecoverableError } from 'bullmq';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { describeJobError } from '../ops/job-error';
import { renderLoginCode, renderSignInNotification } from './email-templates';
import { Delivery, MailerService, OutgoingEmail } from './mailer.service';

type LoginCodeJob = JobPayloads[typeof JOB.loginCode];
type SignInNotificationJob = JobPayloads[typeof JOB.signInNotification];

/** What a handler reports back (kept as the job's return value: no address, no code). */
export type EmailResult = { status: 'sent'; via: Delivery['via'] } | { status: 'skipped-expired' };

/**
 * The `email` queue's work: decrypts the payload (addresses and codes travel encrypted), renders
 * the message and sends it. Logs carry masked addresses only, never a code.
 */
@Injectable()
export class EmailService {
  constructor(
    private readonly encryption: EncryptionService,
    private readonly mailer: MailerService,
    @InjectPinoLogger(EmailService.name) private readonly logger: PinoLogger,
  ) {}

  async sendLoginCode(data: LoginCodeJob, job: Job): Promise<EmailResult> {
    const to = this.decrypt(data.emailEncrypted);
    const context = { jobId: job.id, loginCodeId: data.loginCodeId, maskedEmail: maskEmail(to) };
    const remainingMs = new Date(data.expiresAt).getTime() - Date.now();
    if (!(remainingMs > 0)) {
      this.logger.info(
        { ...context, expiresAt: data.expiresAt },
        'login code expired before it could be sent: skipped',
      );
      return { status: 'skipped-expired' };
    }
    const code = this.decrypt(data.codeEncrypted);
    const rendered = renderLoginCode({ code, validMinutes: Math.ceil(remainingMs / 60_000) });
    return this.deliver(job, context, { ...rendered, to, key: `login-code-${data.loginCodeId}` });
  }

  async sendSignInNotification(data: SignInNotificationJob, job: Job): Promise<EmailResult> {
    const to = this.decrypt(data.emailEncrypted);
    const context = {
      jobId: job.id,
      userId: data.userId,
      sessionId: data.sessionId,
      maskedEmail: maskEmail(to),
    };
    const rendered = renderSignInNotification({
      signedInAt: new Date(data.signedInAt),
      ip: data.ip,
      userAgent: data.userAgent,
    });
    return this.deliver(job, context, {
      ...rendered,
      to,
      key: `sign-in-notification-${data.sessionId}`,
    });
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

  /** A payload that cannot be decrypted never will be: fail the job without retries. */
  private decrypt(value: string): string {
    try {
      return this.encryption.decrypt(value);
    } catch (error) {
      if (error instanceof DecryptionError) {
        throw new UnrecoverableError(`email payload: ${error.message}`);
      }
      throw error;
    }
  }
}
