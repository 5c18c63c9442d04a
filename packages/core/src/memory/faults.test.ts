import { describe, expect, it } from 'vitest';
import { CoreError, isCoreError } from '../errors.ts';
import { FaultInjector } from './faults.ts';

const injector = (disposed = false) => new FaultInjector<'read' | 'write'>('store:test', () => disposed);

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return isCoreError(error) ? error.code : String(error);
  }
}

describe('FaultInjector', () => {
  it('fails the next calls of one operation only, in the order planned', async () => {
    const faults = injector();
    faults.failNext('write', 'UNAVAILABLE');
    faults.failNext('write', new CoreError('TIMEOUT', 'slow'), { times: 2 });
    const effect = () => 'done';
    expect(await faults.run('read', undefined, effect)).toBe('done');
    expect(await codeOf(faults.run('write', undefined, effect))).toBe('UNAVAILABLE');
    expect(await codeOf(faults.run('write', undefined, effect))).toBe('TIMEOUT');
    expect(await codeOf(faults.run('write', undefined, effect))).toBe('TIMEOUT');
    expect(await faults.run('write', undefined, effect)).toBe('done');
  });

  it('fails after the effect when asked: the backend acted but the caller sees an error', async () => {
    const faults = injector();
    let writes = 0;
    faults.failNext('write', 'TIMEOUT', { after: true });
    expect(await codeOf(faults.run('write', undefined, () => writes++))).toBe('TIMEOUT');
    expect(writes).toBe(1);
  });

  it('fails every call until cleared', async () => {
    const faults = injector();
    faults.failAlways('read', 'RATE_LIMITED');
    expect(await codeOf(faults.run('read', undefined, () => 1))).toBe('RATE_LIMITED');
    expect(await codeOf(faults.run('read', undefined, () => 1))).toBe('RATE_LIMITED');
    faults.clear('read');
    expect(await faults.run('read', undefined, () => 1)).toBe(1);
  });

  it('delays calls, and an abort during the delay throws ABORTED without the effect', async () => {
    const faults = injector();
    faults.delay('read', Number.POSITIVE_INFINITY);
    const controller = new AbortController();
    let ran = false;
    const pending = codeOf(faults.run('read', controller.signal, () => (ran = true)));
    controller.abort();
    expect(await pending).toBe('ABORTED');
    expect(ran).toBe(false);
  });

  it('counts calls per operation and in total, failed ones included', async () => {
    const faults = injector();
    faults.failNext('write', 'CONFLICT');
    await codeOf(faults.run('write', undefined, () => 1));
    await faults.run('write', undefined, () => 1);
    await faults.run('read', undefined, () => 1);
    expect([faults.calls('write'), faults.calls('read'), faults.calls()]).toEqual([2, 1, 3]);
  });

  it('throws ABORTED for an aborted signal and UNAVAILABLE (not retryable) once disposed', async () => {
    expect(await codeOf(injector().run('read', AbortSignal.abort(), () => 1))).toBe('ABORTED');
    const disposed = injector(true);
    await expect(disposed.run('read', undefined, () => 1)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      retryable: false,
    });
  });
});
