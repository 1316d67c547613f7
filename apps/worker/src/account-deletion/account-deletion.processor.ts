import { JOB, QUEUE } from '@subscribernest/shared';
import { JobHandlers } from '../ops/job-handlers';
import { QueueProcessor, QueueWorker } from '../ops/queue-processor';
import { AccountDeletionService } from './account-deletion.service';

/** The `account-deletion` queue: one `delete-account` job per due deletion request. */
@QueueWorker(QUEUE.accountDeletion)
export class AccountDeletionProcessor extends QueueProcessor<typeof QUEUE.accountDeletion> {
  readonly queue = QUEUE.accountDeletion;
  readonly concurrencySetting = 'DELETE_ACCOUNT_CONCURRENCY';
  protected readonly handlers: JobHandlers<typeof QUEUE.accountDeletion> = {
    [JOB.deleteAccount]: (data, job, token) => this.deletion.deleteAccount(data, job, token),
  };

  constructor(private readonly deletion: AccountDeletionService) {
    super();
  }
}
