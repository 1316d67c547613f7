import { JOB, QUEUE } from '@subscribernest/shared';
import { JobHandlers } from '../ops/job-handlers';
import { QueueProcessor, QueueWorker } from '../ops/queue-processor';
import { EmailService } from './email.service';

/** The `email` queue: login codes and sign-in notifications (ARCHITECTURE §3). */
@QueueWorker(QUEUE.email)
export class EmailProcessor extends QueueProcessor<typeof QUEUE.email> {
  readonly queue = QUEUE.email;
  readonly concurrencySetting = 'EMAIL_CONCURRENCY';
  protected readonly handlers: JobHandlers<typeof QUEUE.email> = {
    [JOB.loginCode]: (data, job) => this.email.sendLoginCode(data, job),
    [JOB.signInNotification]: (data, job) => this.email.sendSignInNotification(data, job),
  };

  constructor(private readonly email: EmailService) {
    super();
  }
}
