import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { WorkerEnv } from '@subscribernest/shared';
import { createTransport, Transporter } from 'nodemailer';
import { RenderedEmail } from './email-templates';

export interface OutgoingEmail extends RenderedEmail {
  to: string;
  /**
   * Stable per job (e.g. `login-code-<id>`): names the `.eml` file, so a retried job rewrites its
   * file instead of adding one.
   */
  key: string;
}

/** Where a message went: through SMTP, or into a file of the development outbox. */
export type Delivery = { via: 'smtp'; messageId: string } | { via: 'file'; path: string };

const SAFE_KEY = /[^A-Za-z0-9_-]/g;

/**
 * Sends rendered emails through nodemailer: to SMTP_URL when set, otherwise (development and tests
 * only: production refuses to start without SMTP_URL) as `.eml` files in EMAIL_OUTBOX_DIR.
 */
@Injectable()
export class MailerService implements OnModuleDestroy {
  private readonly from: string;
  private readonly smtp?: Transporter;
  private readonly outbox: Transporter;
  /** Absolute folder of the `.eml` files (resolved against the worker's working directory). */
  readonly outboxDir: string;

  constructor(config: ConfigService<WorkerEnv, true>) {
    this.from = config.get('EMAIL_FROM', { infer: true });
    this.outboxDir = resolve(config.get('EMAIL_OUTBOX_DIR', { infer: true }));
    const url = config.get('SMTP_URL', { infer: true });
    if (url) {
      this.smtp = createTransport({
        url,
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 30_000,
      });
    } else if (config.get('NODE_ENV', { infer: true }) === 'production') {
      throw new Error('SMTP_URL is required in production');
    }
    this.outbox = createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  }

  get mode(): 'smtp' | 'file' {
    return this.smtp ? 'smtp' : 'file';
  }

  async send(email: OutgoingEmail): Promise<Delivery> {
    const message = {
      from: this.from,
      to: email.to,
      subject: email.subject,
      text: email.text,
      html: email.html,
    };
    if (this.smtp) {
      const info = (await this.smtp.sendMail(message)) as { messageId: string };
      return { via: 'smtp', messageId: info.messageId };
    }
    const info = (await this.outbox.sendMail(message)) as { message: Buffer };
    await mkdir(this.outboxDir, { recursive: true });
    const path = join(this.outboxDir, `${email.key.replace(SAFE_KEY, '_')}.eml`);
    await writeFile(path, info.message);
    return { via: 'file', path };
  }

  onModuleDestroy(): void {
    this.smtp?.close();
  }
}
