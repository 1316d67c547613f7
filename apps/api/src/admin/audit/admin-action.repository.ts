import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { AdminAction, AdminActionOutcome } from '@subscribernest/shared';
import { FindOptionsWhere, Repository } from 'typeorm';

export interface AdminActionFilter {
  adminId?: string;
  action?: string;
  page: number;
  limit: number;
}

/** What a column may hold of a value that came from a URL: no control characters, bounded. */
function columnText(value: string | null | undefined, max: number): string | null {
  if (value === null || value === undefined) return null;
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, max);
}

/** Writes and lists `admin_actions`, the trail of what admins did through the api. */
@Injectable()
export class AdminActionRepository {
  constructor(@InjectRepository(AdminAction) private readonly actions: Repository<AdminAction>) {}

  /** The attempt, before it runs: an action that crashes half-way is still on record. */
  async begin(entry: {
    adminId: string;
    action: string;
    target: string | null;
    requestId: string | null;
  }): Promise<string> {
    const saved = await this.actions.save(
      this.actions.create({
        adminId: entry.adminId,
        action: entry.action,
        target: columnText(entry.target, 128),
        requestId: columnText(entry.requestId, 128),
        outcome: 'pending',
      }),
    );
    return saved.id;
  }

  /** How it ended; only a `pending` row is finished, once. */
  async finish(
    id: string,
    outcome: Exclude<AdminActionOutcome, 'pending'>,
    statusCode: number,
    detail: string | null,
  ): Promise<void> {
    await this.actions.update(
      { id, outcome: 'pending' },
      { outcome, statusCode, detail: columnText(detail, 500), finishedAt: () => 'now()' },
    );
  }

  async list(filter: AdminActionFilter): Promise<{ rows: AdminAction[]; total: number }> {
    const where: FindOptionsWhere<AdminAction> = {};
    if (filter.adminId) where.adminId = filter.adminId;
    if (filter.action) where.action = filter.action;
    const [rows, total] = await this.actions.findAndCount({
      where,
      order: { createdAt: 'DESC', id: 'DESC' },
      skip: (filter.page - 1) * filter.limit,
      take: filter.limit,
    });
    return { rows, total };
  }
}
