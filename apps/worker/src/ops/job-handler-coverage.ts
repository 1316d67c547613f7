import { QUEUE_JOBS } from '@subscribernest/shared';

/** What one processor in this worker handles. */
export interface ProcessedQueue {
  /** The queue its BullMQ worker consumes. */
  queue: string;
  /** The queue the processor declares (its typed handler map is checked against this one). */
  declaredQueue: string;
  /** The job names it has a handler for. */
  jobNames: readonly string[];
}

type JobContract = Readonly<Record<string, readonly string[]>>;

/** Thrown at start-up when this worker would consume jobs it cannot run. */
export class JobHandlerCoverageError extends Error {
  constructor(readonly problems: string[]) {
    super(`Job handler check failed: ${problems.join('; ')}`);
    this.name = 'JobHandlerCoverageError';
  }
}

/**
 * Every problem that would leave a job nobody runs, or make this worker take a job it cannot run:
 * a queue of the shared contract with no processor here, a job name of the contract with no
 * handler, a queue outside the contract, a processor attached to another queue than it declares,
 * or two processors on one queue. Every worker process runs every queue, so a queue enters the
 * contract with its processor.
 */
export function findJobHandlerProblems(
  processed: readonly ProcessedQueue[],
  contract: JobContract = QUEUE_JOBS,
): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const { queue, declaredQueue, jobNames } of processed) {
    if (queue !== declaredQueue) {
      problems.push(`a processor declared for queue "${declaredQueue}" consumes "${queue}"`);
    }
    if (seen.has(queue)) problems.push(`queue "${queue}" has more than one processor`);
    seen.add(queue);
    const expected = Object.prototype.hasOwnProperty.call(contract, queue)
      ? contract[queue]
      : undefined;
    if (!expected) {
      problems.push(`queue "${queue}" is not in the shared queue contract (QUEUE_JOBS)`);
      continue;
    }
    const missing = expected.filter((name) => !jobNames.includes(name));
    if (missing.length > 0) {
      problems.push(
        `queue "${queue}" has no handler for job ${missing.map((n) => `"${n}"`).join(', ')}`,
      );
    }
  }
  for (const queue of Object.keys(contract)) {
    if (!seen.has(queue)) problems.push(`queue "${queue}" has no processor in this worker`);
  }
  return problems;
}

/** Throws a JobHandlerCoverageError naming every problem (start-up then exits 1). */
export function assertEveryJobHasAHandler(
  processed: readonly ProcessedQueue[],
  contract: JobContract = QUEUE_JOBS,
): void {
  const problems = findJobHandlerProblems(processed, contract);
  if (problems.length > 0) throw new JobHandlerCoverageError(problems);
}
