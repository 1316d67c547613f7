/**
 * Keeps a list's requests waiting at the fake ESP until the test releases them: a test can act
 * while a request is known to be in flight (take a sync's run from it, stop a process) instead
 * of betting on a latency being long enough on a busy machine.
 */
export class RequestHold {
  /** Resolves when the first held request arrives. */
  readonly arrived: Promise<void>;
  private signalArrival!: () => void;
  private readonly waiting: Array<() => void> = [];
  private released = false;

  constructor(private readonly onRelease: () => void) {
    this.arrived = new Promise((resolve) => (this.signalArrival = resolve));
  }

  /** How many requests are held now. */
  get held(): number {
    return this.waiting.length;
  }

  /** Lets every held request go on, and every later one through. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.onRelease();
    for (const resume of this.waiting.splice(0)) resume();
  }

  /** @internal The server's side: waits here until released. */
  wait(): Promise<void> {
    if (this.released) return Promise.resolve();
    this.signalArrival();
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}
