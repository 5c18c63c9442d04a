import { getEventListeners } from 'node:events';
import { afterEach, expect, it, vi } from 'vitest';
import { requestDeadline } from './request-deadline.ts';

afterEach(() => {
  vi.useRealTimers();
});

it('aborts with a TimeoutError when the deadline passes first, and says it timed out', () => {
  vi.useFakeTimers();
  const lifetime = new AbortController();
  const deadline = requestDeadline(1_000, [lifetime.signal]);
  vi.advanceTimersByTime(999);
  expect(deadline.signal.aborted).toBe(false);
  vi.advanceTimersByTime(1);
  expect(deadline.signal.aborted).toBe(true);
  expect(deadline.timedOut).toBe(true);
  expect((deadline.signal.reason as DOMException).name).toBe('TimeoutError');
  expect(getEventListeners(lifetime.signal, 'abort')).toHaveLength(0);
});

it('aborts with a followed signal’s reason, at once when it is already aborted', () => {
  const cancel = new AbortController();
  const deadline = requestDeadline(60_000, [undefined, cancel.signal]);
  cancel.abort(new Error('stopped by the caller'));
  expect(deadline.signal.aborted).toBe(true);
  expect(deadline.timedOut).toBe(false);
  expect((deadline.signal.reason as Error).message).toBe('stopped by the caller');
  const late = requestDeadline(60_000, [cancel.signal]);
  expect(late.signal.aborted).toBe(true);
  expect((late.signal.reason as Error).message).toBe('stopped by the caller');
  late.done();
  deadline.done();
});

it('done() lets go of the timer and of every followed signal: nothing aborts the finished request later', () => {
  vi.useFakeTimers();
  const lifetime = new AbortController();
  const cancel = new AbortController();
  const deadline = requestDeadline(1_000, [lifetime.signal, cancel.signal]);
  expect(getEventListeners(lifetime.signal, 'abort')).toHaveLength(1);
  deadline.done();
  expect(getEventListeners(lifetime.signal, 'abort')).toHaveLength(0);
  expect(getEventListeners(cancel.signal, 'abort')).toHaveLength(0);
  expect(vi.getTimerCount()).toBe(0);
  vi.advanceTimersByTime(5_000);
  lifetime.abort();
  expect(deadline.signal.aborted).toBe(false);
});
