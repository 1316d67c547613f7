import { Injectable, NotFoundException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ApiEnv, User } from '@subscribernest/shared';
import { JobRunDto } from './dto/job-run.dto';
import { JobRunRepository } from './job-run.repository';

/** Job status for its owner or an admin, read from Postgres (Redis trims its own records). */
@Injectable()
export class JobsService {
  private readonly syncAttempts: number;

  constructor(
    private readonly runs: JobRunRepository,
    config: ConfigService<ApiEnv, true>,
  ) {
    this.syncAttempts = config.get('SYNC_JOB_ATTEMPTS', { infer: true });
  }

  /**
   * The job `id` names (a `job_runs` id or a BullMQ job id). A sync the worker has not recorded
   * yet is answered from its sync run. Anyone but its owner or an admin gets a 404.
   */
  async findForViewer(id: string, viewer: User): Promise<JobRunDto> {
    const scope = { userId: viewer.id, isAdmin: viewer.role === 'admin' };
    const run = await this.runs.findVisible(id, scope);
    if (run) return JobRunDto.from(run);
    const syncRun = await this.runs.findVisibleSyncRun(id, scope);
    if (syncRun) return JobRunDto.fromSyncRun(syncRun, this.syncAttempts);
    throw new NotFoundException('Job not found');
  }
}
