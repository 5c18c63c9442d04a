/**
 * One deploy at a time per project-stage, a global limit across stages, and a newer job
 * superseding one that has not started yet.
 */
export class StageQueue<Job> {
  readonly #limit: number;
  readonly #run: (key: string, job: Job) => Promise<void>;
  readonly #onSuperseded: (key: string, job: Job, by: Job) => Promise<void>;
  readonly #running = new Map<string, Promise<void>>();
  readonly #waiting = new Map<string, Job>();
  readonly #order: string[] = [];
  #active = 0;

  constructor(options: {
    limit: number;
    run: (key: string, job: Job) => Promise<void>;
    onSuperseded: (key: string, job: Job, by: Job) => Promise<void>;
  }) {
    this.#limit = options.limit;
    this.#run = options.run;
    this.#onSuperseded = options.onSuperseded;
  }

  /** Queues a job for a stage; a job of that stage that is still waiting is superseded. */
  async push(key: string, job: Job): Promise<void> {
    const previous = this.#waiting.get(key);
    this.#waiting.set(key, job);
    if (previous === undefined) this.#order.push(key);
    else await this.#onSuperseded(key, previous, job);
    this.#pump();
  }

  /** Takes a stage's waiting job out of the queue; returns it. */
  remove(key: string): Job | undefined {
    const job = this.#waiting.get(key);
    this.#waiting.delete(key);
    const index = this.#order.indexOf(key);
    if (index >= 0) this.#order.splice(index, 1);
    return job;
  }

  waiting(key: string): Job | undefined {
    return this.#waiting.get(key);
  }

  isRunning(key: string): boolean {
    return this.#running.has(key);
  }

  get depth(): number {
    return this.#waiting.size;
  }

  /** Resolves when nothing runs and nothing waits. */
  async idle(): Promise<void> {
    while (this.#running.size > 0 || this.#waiting.size > 0) {
      await Promise.all(this.#running.values());
      if (this.#running.size === 0 && this.#waiting.size > 0) this.#pump();
      await Promise.resolve();
    }
  }

  /** Drops every waiting job (running ones finish); returns them. */
  clear(): Array<[string, Job]> {
    const dropped = [...this.#waiting.entries()];
    this.#waiting.clear();
    this.#order.length = 0;
    return dropped;
  }

  #pump(): void {
    for (let i = 0; i < this.#order.length && this.#active < this.#limit; ) {
      const key = this.#order[i]!;
      if (this.#running.has(key)) {
        i++;
        continue;
      }
      this.#order.splice(i, 1);
      const job = this.#waiting.get(key);
      this.#waiting.delete(key);
      if (job === undefined) continue;
      this.#active++;
      const running = this.#run(key, job)
        .catch(() => undefined)
        .finally(() => {
          this.#active--;
          this.#running.delete(key);
          if (this.#waiting.has(key) && !this.#order.includes(key)) this.#order.push(key);
          this.#pump();
        });
      this.#running.set(key, running);
    }
  }
}
