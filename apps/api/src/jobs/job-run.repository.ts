import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { JobRun, QUEUE, SyncRun } from '@subscribernest/shared';
import { DataSource } from 'typeorm';

/** Who is asking: a user sees their own jobs, an admin every job. */
export interface JobViewer {
  userId: string;
  isAdmin: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Queries on `job_runs` (and `sync_runs`, for syncs the worker has not picked up yet). */
@Injectable()
export class JobRunRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * The job `id` names — its `job_runs.id` or its BullMQ job id — if the viewer may see it: an
   * admin always, a user when the row is theirs (`user_id`) or, for a sync, its sync run is.
   * A `job_runs.id` match wins over a job id match, then the newest row.
   */
  findVisible(id: string, viewer: JobViewer): Promise<JobRun | null> {
    const isUuid = UUID.test(id);
    const query = this.dataSource
      .getRepository(JobRun)
      .createQueryBuilder('run')
      .where(isUuid ? '(run.id = :uuid OR run.jobId = :id)' : 'run.jobId = :id', {
        id,
        uuid: isUuid ? id : null,
      });
    if (!viewer.isAdmin) {
      query.andWhere(
        `(run.userId = :userId OR (run.queue = :syncQueue AND EXISTS (
          SELECT 1 FROM sync_runs sync WHERE sync.id::text = run.job_id AND sync.user_id = :userId
        )))`,
        { userId: viewer.userId, syncQueue: QUEUE.subscriberSync },
      );
    }
    if (isUuid) query.orderBy('(run.id = :uuid)', 'DESC');
    return query.addOrderBy('run.createdAt', 'DESC').addOrderBy('run.id', 'DESC').getOne();
  }

  /** The sync run with this id (also its job id) if the viewer may see it. */
  findVisibleSyncRun(id: string, viewer: JobViewer): Promise<SyncRun | null> {
    if (!UUID.test(id)) return Promise.resolve(null);
    return this.dataSource
      .getRepository(SyncRun)
      .findOneBy(viewer.isAdmin ? { id } : { id, userId: viewer.userId });
  }

  findById(id: string): Promise<JobRun | null> {
    return this.dataSource.getRepository(JobRun).findOneBy({ id });
  }

  /** One page of dead jobs, newest death first, and how many there are in all. */
  async findDeadPage(page: number, limit: number): Promise<{ rows: JobRun[]; total: number }> {
    const [rows, total] = await this.dataSource.getRepository(JobRun).findAndCount({
      where: { status: 'dead' },
      order: { updatedAt: 'DESC', id: 'DESC' },
      skip: (page - 1) * limit,
      take: limit,
    });
    return { rows, total };
  }

  /**
   * Claims a dead job for a retry: `dead` → `queued` (attempts reset) in one conditional update,
   * so two admins retrying at once cannot both re-enqueue it. False when it was not dead.
   */
  async claimDeadForRetry(id: string): Promise<boolean> {
    const result = await this.dataSource
      .getRepository(JobRun)
      .createQueryBuilder()
      .update(JobRun)
      .set({ status: 'queued', attempts: 0, startedAt: null, finishedAt: null })
      .where('id = :id AND status = :dead', { id, dead: 'dead' })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  /** Undoes claimDeadForRetry when the re-enqueue failed, leaving the job in the dead letter. */
  async releaseRetryClaim(run: JobRun): Promise<void> {
    await this.dataSource
      .getRepository(JobRun)
      .createQueryBuilder()
      .update(JobRun)
      .set({
        status: 'dead',
        attempts: run.attempts,
        startedAt: run.startedAt,
        finishedAt: run.finishedAt,
      })
      .where('id = :id AND status = :queued', { id: run.id, queued: 'queued' })
      .execute();
  }
}
