import { BadRequestException, Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AdminQueuesService } from './admin-queues.service';
import {
  MANUAL_CRONS,
  ManualCronName,
  RUN_CRON_JOB,
  runCronJobId,
  RunCronPayload,
} from './scheduler-ticks.contract';

function isManualCron(name: string): name is ManualCronName {
  return (MANUAL_CRONS as readonly string[]).includes(name);
}

/** Manual cron ticks: a `run-cron` job for the worker, one per cron per minute. */
@Injectable()
export class SchedulersService {
  constructor(
    private readonly queues: AdminQueuesService,
    @InjectPinoLogger(SchedulersService.name) private readonly logger: PinoLogger,
  ) {}

  async run(name: string, adminId: string, now = new Date()): Promise<{ jobId: string }> {
    if (!isManualCron(name)) {
      throw new BadRequestException(
        `Unknown scheduler "${name}"; one of: ${MANUAL_CRONS.join(', ')}`,
      );
    }
    const jobId = runCronJobId(name, now);
    const payload: RunCronPayload = { name, requestedBy: adminId, requestedAt: now.toISOString() };
    const queue = this.queues.schedulerTicks;
    // Same id within the minute: BullMQ keeps the first job and ignores the second add.
    await this.queues.call(queue, 'adding a manual cron tick', () =>
      queue.add(RUN_CRON_JOB, payload, { jobId }),
    );
    this.logger.info({ cron: name, jobId, adminId }, 'Manual cron tick requested');
    return { jobId };
  }
}
