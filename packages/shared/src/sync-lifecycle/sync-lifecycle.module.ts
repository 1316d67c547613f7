import { Module } from '@nestjs/common';
import { SyncRunLifecycle } from './sync-run-lifecycle';

/** SyncRunLifecycle for a service whose TypeORM root module is loaded. */
@Module({ providers: [SyncRunLifecycle], exports: [SyncRunLifecycle] })
export class SyncLifecycleModule {}
