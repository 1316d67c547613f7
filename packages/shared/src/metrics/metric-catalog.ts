/**
 * Every metric the services export beyond Node's process metrics, in one place: the name, what it
 * means (the README's table and each metric's HELP text), its labels and which service exports
 * it. Labels are low-cardinality only: never a user, connection or job id.
 * ops/prometheus/alerts.yml and ops/grafana/subscribernest.json use these names; a test checks
 * that every name they use is exported after a sync.
 */
export interface MetricDefinition {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  labelNames: readonly string[];
  /** The services that export it. */
  services: readonly ('api' | 'worker')[];
  buckets?: number[];
}

const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600];
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const METRICS = {
  jobs: {
    name: 'subscribernest_jobs_total',
    help: 'Job attempts that ended, by queue, job name and outcome (completed, retried: failed with attempts left, dead: failed for good)',
    type: 'counter',
    labelNames: ['queue', 'name', 'outcome'],
    services: ['worker'],
  },
  jobDuration: {
    name: 'subscribernest_job_duration_seconds',
    help: 'How long one job attempt ran, by queue and job name',
    type: 'histogram',
    labelNames: ['queue', 'name'],
    services: ['worker'],
    buckets: DURATION_BUCKETS,
  },
  queueJobs: {
    name: 'subscribernest_queue_jobs',
    help: 'Jobs in a queue by state (waiting, active, delayed, failed), sampled every METRICS_SAMPLE_INTERVAL_MS',
    type: 'gauge',
    labelNames: ['queue', 'state'],
    services: ['worker'],
  },
  syncRuns: {
    name: 'subscribernest_sync_runs_total',
    help: 'Sync runs that ended, by ESP and outcome (success, failed)',
    type: 'counter',
    labelNames: ['esp', 'outcome'],
    services: ['worker'],
  },
  syncSubscribers: {
    name: 'subscribernest_sync_subscribers_total',
    help: 'Subscribers a successful sync run wrote or found, by ESP and change (created, updated, removed, unchanged)',
    type: 'counter',
    labelNames: ['esp', 'change'],
    services: ['worker'],
  },
  syncDuration: {
    name: 'subscribernest_sync_duration_seconds',
    help: 'Wall time of a successful sync run, from its first pass to its end, by ESP',
    type: 'histogram',
    labelNames: ['esp'],
    services: ['worker'],
    buckets: DURATION_BUCKETS,
  },
  syncRowsPerSecond: {
    name: 'subscribernest_sync_rows_per_second',
    help: 'Subscribers per second of a successful sync run, by ESP',
    type: 'histogram',
    labelNames: ['esp'],
    services: ['worker'],
    buckets: [10, 100, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000],
  },
  espRequests: {
    name: 'subscribernest_esp_requests_total',
    help: 'HTTP requests to an ESP, by ESP, endpoint kind (validate, count, lists, subscribers) and status class (2xx, 4xx, 429, 5xx, network)',
    type: 'counter',
    labelNames: ['esp', 'endpoint', 'status'],
    services: ['api', 'worker'],
  },
  espRequestDuration: {
    name: 'subscribernest_esp_request_duration_seconds',
    help: 'Duration of one ESP HTTP request attempt, by ESP and endpoint kind',
    type: 'histogram',
    labelNames: ['esp', 'endpoint'],
    services: ['api', 'worker'],
    buckets: HTTP_BUCKETS,
  },
  espRetries: {
    name: 'subscribernest_esp_retries_total',
    help: 'ESP requests retried in-process (network error, timeout, 5xx, short 429), by ESP',
    type: 'counter',
    labelNames: ['esp'],
    services: ['api', 'worker'],
  },
  espInlineWait: {
    name: 'subscribernest_esp_inline_wait_seconds_total',
    help: 'Time slept in-process before retrying an ESP request (backoff and Retry-After), by ESP',
    type: 'counter',
    labelNames: ['esp'],
    services: ['api', 'worker'],
  },
  espBudgetWait: {
    name: 'subscribernest_esp_budget_wait_seconds',
    help: 'Time ESP calls waited in-process for their per-credential request budget, by ESP (only calls that waited)',
    type: 'histogram',
    labelNames: ['esp'],
    services: ['api', 'worker'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  },
  outboxUnpublished: {
    name: 'subscribernest_outbox_unpublished',
    help: 'Outbox events not yet published to the queue, sampled',
    type: 'gauge',
    labelNames: [],
    services: ['worker'],
  },
  outboxOldestAge: {
    name: 'subscribernest_outbox_oldest_unpublished_age_seconds',
    help: 'Age of the oldest unpublished outbox event (0 when none), sampled',
    type: 'gauge',
    labelNames: [],
    services: ['worker'],
  },
  outboxRelayFailures: {
    name: 'subscribernest_outbox_relay_failures_total',
    help: "Attempts to publish an outbox event that failed (Redis unavailable); the row stays pending for the worker's sweeper",
    type: 'counter',
    labelNames: [],
    services: ['api', 'worker'],
  },
  cronLastSuccess: {
    name: 'subscribernest_cron_last_success_timestamp_seconds',
    help: 'When the newest completed tick of each cron finished (Unix seconds, from cron_runs: the same on every replica), sampled',
    type: 'gauge',
    labelNames: ['cron'],
    services: ['worker'],
  },
  cronLastOutcome: {
    name: 'subscribernest_cron_last_outcome',
    help: 'The newest tick of each cron: 1 when it completed, 0 when it failed or is still running (from cron_runs), sampled',
    type: 'gauge',
    labelNames: ['cron'],
    services: ['worker'],
  },
  cronTicks: {
    name: 'subscribernest_cron_ticks_total',
    help: 'Cron ticks this worker tried to claim, by cron and result (claimed, not_claimed, caught_up, completed, failed)',
    type: 'counter',
    labelNames: ['cron', 'result'],
    services: ['worker'],
  },
  emails: {
    name: 'subscribernest_emails_total',
    help: 'Emails handed to the SMTP server (sent) or refused by it (failed), by kind (login-code, sign-in-notification)',
    type: 'counter',
    labelNames: ['kind', 'outcome'],
    services: ['worker'],
  },
  httpRequestDuration: {
    name: 'subscribernest_http_request_duration_seconds',
    help: 'api HTTP requests by method, route template and status class',
    type: 'histogram',
    labelNames: ['method', 'route', 'status'],
    services: ['api'],
    buckets: HTTP_BUCKETS,
  },
  exportsInFlight: {
    name: 'subscribernest_exports_in_flight',
    help: 'Export downloads this api process is streaming now',
    type: 'gauge',
    labelNames: [],
    services: ['api'],
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricKey = keyof typeof METRICS;
