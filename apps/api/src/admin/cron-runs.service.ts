import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import {
  CronRun,
  isManualCron,
  JOB,
  JobProducer,
  PayloadOf,
  rerunCronTickJobId,
} from '@subscribernest/shared';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { FindOptionsWhere, Repository } from 'typeorm';
import { CronRunQueryDto } from './dto/cron-run-query.dto';

/**
 * The admin's view of `cron_runs`: the ticks each cron ran, and the re-run of one that failed or
 * whose worker died. The worker decides the race (its claim is one conditional statement); the
 * checks here turn the cases an admin can see into a clear 409 before anything is queued.
 */
@Injectable()
export class CronRunsService {
  constructor(
    @InjectRepository(CronRun) private readonly runs: Repository<CronRun>,
    private readonly producer: JobProducer,
    @InjectPinoLogger(CronRunsService.name) private readonly logger: PinoLogger,
  ) {}

  async list(query: CronRunQueryDto): Promise<{ rows: CronRun[]; total: number }> {
    const where: FindOptionsWhere<CronRun> = {};
    if (query.name) where.name = query.name;
    if (query.status) where.status = query.status;
    const [rows, total] = await this.runs.findAndCount({
      where,
      order: { tick: 'DESC', id: 'DESC' },
      skip: (query.page - 1) * query.limit,
      take: query.limit,
    });
    return { rows, total };
  }

  async rerun(id: string, adminId: string): Promise<{ jobId: string; cronRun: CronRun }> {
    const run = await this.runs.findOneBy({ id });
    if (!run) throw new NotFoundException(`No cron run ${id}`);
    if (run.status === 'completed') {
      throw new ConflictException(
        `Cron run ${id} completed; to run ${run.name} again now, use POST /admin/schedulers/${run.name}/run`,
      );
    }
    if (run.status === 'running' && run.leaseExpiresAt && run.leaseExpiresAt > new Date()) {
      throw new ConflictException(
        `Cron run ${id} is running on ${run.claimedBy} (lease until ${run.leaseExpiresAt.toISOString()})`,
      );
    }
    if (!isManualCron(run.name)) {
      throw new ConflictException(`No worker scheduler runs "${run.name}" yet`);
    }

    const jobId = rerunCronTickJobId(run.id, run.attempts);
    const payload: PayloadOf<typeof JOB.rerunCronTick> = {
      cronRunId: run.id,
      requestedBy: adminId,
    };
    // Same id for the same attempt count: a double click queues one re-run.
    await this.producer.add(JOB.rerunCronTick, payload, jobId);
    this.logger.info(
      {
        cron: run.name,
        cronRunId: run.id,
        status: run.status,
        attempts: run.attempts,
        jobId,
        adminId,
      },
      'Cron tick re-run requested',
    );
    return { jobId, cronRun: run };
  }
}
