import { Module } from '@nestjs/common';
import { EmailProcessor } from './email.processor';
import { EmailService } from './email.service';
import { MailerService } from './mailer.service';

/** Email delivery: the `email` queue's processor, its rendering and the SMTP/outbox mailer. */
@Module({
  providers: [EmailProcessor, EmailService, MailerService],
})
export class EmailModule {}
