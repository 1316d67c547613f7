import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { SyncRun } from '@subscribernest/shared';
import { DataSource } from 'typeorm';

/**
 * Reads of `sync_runs` for the owner (every method takes the caller's `userId`). Every write of a
 * run goes through SyncRunLifecycle.
 */
@Injectable()
export class SyncRunRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The newest runs of one of the user's connections, newest first. */
  findRecentForUser(userId: string, connectionId: string, limit: number): Promise<SyncRun[]> {
    return this.dataSource.getRepository(SyncRun).find({
      where: { userId, espConnectionId: connectionId },
      order: { createdAt: 'DESC', id: 'DESC' },
      take: limit,
    });
  }
}
