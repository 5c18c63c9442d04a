import { afterEach, describe, expect, it, vi } from 'vitest';
import { LookCoalescer } from './look-coalescer.ts';

afterEach(() => {
  vi.useRealTimers();
});

const recorder = (windowMs: number) => {
  const looks: string[] = [];
  const coalescer = new LookCoalescer<string>(windowMs, (key, value) => looks.push(`${key}:${value}`));
  return { looks, coalescer };
};

describe('LookCoalescer', () => {
  it('looks at a lone notification on the next turn, without waiting for the window', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
    const { looks, coalescer } = recorder(250);
    coalescer.observe('main/web', 'dev-1');
    expect(looks).toEqual([]);
    await vi.advanceTimersByTimeAsync(0);
    expect(looks).toEqual(['main/web:dev-1']);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(looks).toEqual(['main/web:dev-1']);
  });

  it('gives the events of one delivery one look, and a burst after it one more at the end of the window', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
    const { looks, coalescer } = recorder(250);
    coalescer.observe('main/web', 'a');
    coalescer.observe('main/web', 'b');
    await vi.advanceTimersByTimeAsync(0);
    expect(looks).toEqual(['main/web:b']);
    for (const tag of ['c', 'd', 'e']) {
      await vi.advanceTimersByTimeAsync(50);
      coalescer.observe('main/web', tag);
    }
    expect(coalescer.has('main/web')).toBe(true);
    await vi.advanceTimersByTimeAsync(99);
    expect(looks).toEqual(['main/web:b']);
    await vi.advanceTimersByTimeAsync(1);
    expect(looks).toEqual(['main/web:b', 'main/web:e']);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(looks).toHaveLength(2);
    expect(coalescer.has('main/web')).toBe(false);
  });

  it('keeps repositories apart, and with a window of 0 looks at every turn', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
    const { looks, coalescer } = recorder(0);
    coalescer.observe('main/web', '1');
    coalescer.observe('main/api', '1');
    await vi.advanceTimersByTimeAsync(0);
    coalescer.observe('main/web', '2');
    await vi.advanceTimersByTimeAsync(0);
    expect(looks).toEqual(['main/web:1', 'main/api:1', 'main/web:2']);
  });

  it('forgets what is due when cleared', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
    const { looks, coalescer } = recorder(250);
    coalescer.observe('main/web', '1');
    await vi.advanceTimersByTimeAsync(0);
    coalescer.observe('main/web', '2');
    coalescer.clear();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(looks).toEqual(['main/web:1']);
  });
});
