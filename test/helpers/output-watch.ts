/**
 * Bounded waits on what a child process prints: a check re-runs on every chunk of output and
 * once at exit, so a test waits on the line itself, never on a guessed delay.
 */
export class OutputWatch {
  private readonly listeners = new Set<() => void>();
  private exited = false;

  /** Call after new output arrived. */
  changed(): void {
    for (const listener of [...this.listeners]) listener();
  }

  /** Call once the process has exited: pending waits fail at once instead of at their timeout. */
  exit(): void {
    this.exited = true;
    this.changed();
  }

  /**
   * Resolves with match()'s first non-null answer; rejects when the process exits first or after
   * timeoutMs, with `what` and the output (from `transcript`) in the message.
   */
  waitFor<T>(match: () => T | null | undefined, what: string, timeoutMs: number, transcript: () => string): Promise<T> {
    return new Promise((resolve, reject) => {
      const done = (settle: () => void): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
        settle();
      };
      const check = (): void => {
        const found = match();
        if (found !== null && found !== undefined) done(() => resolve(found));
        else if (this.exited) done(() => reject(new Error(`exited before ${what}:\n${transcript()}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`no ${what} within ${timeoutMs} ms:\n${transcript()}`))), timeoutMs);
      this.listeners.add(check);
      check();
    });
  }
}
