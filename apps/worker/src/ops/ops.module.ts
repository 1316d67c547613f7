import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { JobRun, PlatformHealthModule } from '@subscribernest/shared';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { JobAuditListener } from './job-audit.listener';
import { JobHandback } from './job-handback';
import { JobMetrics } from './job-metrics';
import { MetricsSampler } from './metrics-sampler';
import { JobRunRepository } from './job-run.repository';
import { LegacyJobPayloadScrubber } from './legacy-job-payload.scrubber';
import { OpsServer } from './ops-server';
import { QueueWorkersService } from './queue-workers.service';

/**
 * What keeps the worker operable: the ops listener (health, metrics), the lifecycle of every
 * BullMQ worker (start when ready, handler check, lock timings, drain and hand-back on shutdown)
 * and the `job_runs` audit.
 */
@Module({
  imports: [
    DiscoveryModule,
    TypeOrmModule.forFeature([JobRun]),
    PlatformHealthModule,
    PrometheusModule.register({ defaultMetrics: { enabled: true } }),
  ],
  providers: [
    OpsServer,
    JobRunRepository,
    JobAuditListener,
    JobMetrics,
    MetricsSampler,
    JobHandback,
    QueueWorkersService,
    LegacyJobPayloadScrubber,
  ],
  exports: [OpsServer, QueueWorkersService, JobHandback],
})
export class OpsModule {}
