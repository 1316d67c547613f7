import { Module } from '@nestjs/common';
import { EmailProcessor } from './email.processor';
import { EmailService } from './email.service';
import { LoginCodeMailRepository } from './login-code-mail.repository';
import { MailerService } from './mailer.service';
import { SignInNoticeRepository } from './sign-in-notice.repository';

/** Email delivery: the `email` queue's processor, its rendering and the SMTP/outbox mailer. */
@Module({
  providers: [
    EmailProcessor,
    EmailService,
    MailerService,
    LoginCodeMailRepository,
    SignInNoticeRepository,
  ],
})
export class EmailModule {}
