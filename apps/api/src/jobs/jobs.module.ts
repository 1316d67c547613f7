import { Module } from '@nestjs/common';
import { JobRunRepository } from './job-run.repository';
import { JobsController } from './jobs.controller';
import { JobsService } from './jobs.service';

/** `GET /jobs/:id`, and the `job_runs` queries the admin module shares. */
@Module({
  controllers: [JobsController],
  providers: [JobsService, JobRunRepository],
  exports: [JobRunRepository],
})
export class JobsModule {}
