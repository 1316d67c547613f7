/** Every action an admin can take through the api, as `admin_actions.action` names it. */
export const ADMIN_ACTIONS = [
  'dead-letter.retry',
  'scheduler.run',
  'cron-run.rerun',
  'queue-board.open',
] as const;
export type AdminActionName = (typeof ADMIN_ACTIONS)[number];

export interface AdminActionMetadata {
  action: AdminActionName;
  /** The route parameter that names what is acted on (a job_runs id, a cron name), if any. */
  targetParam?: string;
}

export const ADMIN_ACTION_METADATA = 'subscribernest:admin-action';
