import { BadRequestException, Injectable } from '@nestjs/common';
import {
  isManualCron,
  JOB,
  JobProducer,
  MANUAL_CRONS,
  PayloadOf,
  runCronJobId,
} from '@subscribernest/shared';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';

/**
 * Manual cron ticks: a `run-cron` job on the `scheduler-ticks` queue, one per cron per minute. The
 * worker claims the tick as `manual` in `cron_runs` and runs the cron's fan-out.
 */
@Injectable()
export class SchedulersService {
  constructor(
    private readonly producer: JobProducer,
    @InjectPinoLogger(SchedulersService.name) private readonly logger: PinoLogger,
  ) {}

  async run(name: string, adminId: string, now = new Date()): Promise<{ jobId: string }> {
    if (!isManualCron(name)) {
      throw new BadRequestException(
        `Unknown scheduler "${name}"; one of: ${MANUAL_CRONS.join(', ')}`,
      );
    }
    const jobId = runCronJobId(name, now);
    const payload: PayloadOf<typeof JOB.runCron> = {
      name,
      requestedBy: adminId,
      requestedAt: now.toISOString(),
    };
    // Same id within the minute: BullMQ keeps the first job and ignores the second add.
    await this.producer.add(JOB.runCron, payload, jobId);
    this.logger.info({ cron: name, jobId, adminId }, 'Manual cron tick requested');
    return { jobId };
  }
}
