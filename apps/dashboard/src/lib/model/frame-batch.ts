// Items that arrive in bursts (a deploy's log lines), handed on together once per frame.

export interface FrameClock {
  request(run: () => void): number;
  cancel(frame: number): void;
}

const animationFrames: FrameClock = {
  request: (run) => requestAnimationFrame(run),
  cancel: (frame) => cancelAnimationFrame(frame),
};

export class FrameBatch<T> {
  #items: T[] = [];
  #frame = 0;
  readonly #take: (items: T[]) => void;
  readonly #clock: FrameClock;

  constructor(take: (items: T[]) => void, clock: FrameClock = animationFrames) {
    this.#take = take;
    this.#clock = clock;
  }

  /** Keeps an item for the next frame (asking for one unless one is already coming). */
  push(item: T): void {
    this.#items.push(item);
    this.#frame ||= this.#clock.request(() => {
      this.#frame = 0;
      this.flush();
    });
  }

  /** Hands on what is kept now, and forgets the frame asked for: the next push asks again. */
  flush(): void {
    if (this.#frame) this.#clock.cancel(this.#frame);
    this.#frame = 0;
    if (this.#items.length === 0) return;
    const items = this.#items;
    this.#items = [];
    this.#take(items);
  }
}
