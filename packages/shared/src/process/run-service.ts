import { ConfigValidationError } from '../config/config-validation.error';

/**
 * Runs a service's bootstrap. A configuration error stops the process with its one-line message
 * (naming the variable, never its value); any other start-up failure is printed and exits 1.
 */
export function runService(name: string, bootstrap: () => Promise<void>): void {
  bootstrap().catch((error: unknown) => {
    if (error instanceof ConfigValidationError) {
      process.stderr.write(`${name}: ${error.message}\n`);
    } else {
      process.stderr.write(
        `${name}: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    }
    process.exit(1);
  });
}
