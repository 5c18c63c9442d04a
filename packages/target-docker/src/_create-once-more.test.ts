import { describe, expect, it } from 'vitest';
import { createOnceMore, missingForCreate } from './_create-once-more.ts';

/** An error as dockerode rejects with it: the engine's status and JSON message. */
const engineError = (statusCode: number, message: string) =>
  Object.assign(new Error(`(HTTP code ${statusCode}) ${message}`), { statusCode, json: { message } });

const noImage = engineError(404, 'No such image: 127.0.0.1:5000/app@sha256:abc');
const noNetwork = engineError(404, 'network dw-test not found');

function script(answers: Array<Error | string>) {
  const calls: string[] = [];
  /** Notes what it was asked to ensure, and brings it back. */
  const ensure = async (missing: string) => {
    calls.push(`ensure ${missing}`);
  };
  const create = async () => {
    calls.push('create');
    const next = answers.shift();
    if (next instanceof Error) throw next;
    return next ?? 'created';
  };
  return { calls, create, ensure };
}

describe('createOnceMore', () => {
  it('ensures the image again and creates once more when the image went away', async () => {
    const { calls, create, ensure } = script([noImage, 'container']);
    const lines: string[] = [];
    const made = await createOnceMore({
      create,
      ensure,
      onLog: (line) => lines.push(line),
    });
    expect(made).toBe('container');
    expect(calls).toEqual(['create', 'ensure image', 'create']);
    expect(lines).toEqual(['the image went away before the container was created: ensuring it again']);
  });

  it('does the same for a network', async () => {
    const { calls, create, ensure } = script([noNetwork, 'container']);
    await createOnceMore({ create, ensure });
    expect(calls).toEqual(['create', 'ensure network', 'create']);
  });

  it('tries once more only once: a second failure stands', async () => {
    const second = engineError(404, 'No such image: again');
    const { calls, create } = script([noImage, second]);
    await expect(createOnceMore({ create, ensure: async () => undefined })).rejects.toBe(second);
    expect(calls).toEqual(['create', 'create']);
  });

  it('rethrows other failures, and what it does not restore, without a second create', async () => {
    const conflict = engineError(409, 'Conflict. The container name is already in use');
    const other404 = engineError(404, 'No such container: x');
    for (const failure of [conflict, other404, new Error('socket hang up')]) {
      const { calls, create } = script([failure]);
      await expect(createOnceMore({ create, ensure: async () => undefined })).rejects.toBe(failure);
      expect(calls).toEqual(['create']);
    }
    const { calls, create, ensure } = script([noNetwork]);
    const lines: string[] = [];
    const onLog = (line: string) => lines.push(line);
    await expect(createOnceMore({ create, ensure, restores: ['image'], onLog })).rejects.toBe(noNetwork);
    expect(calls).toEqual(['create']);
    expect(lines).toEqual([]);
  });

  it('creates nothing more once the call was cancelled while ensuring', async () => {
    const cancel = new AbortController();
    const { calls, create } = script([noImage, 'container']);
    const ensure = async () => {
      cancel.abort();
    };
    await expect(createOnceMore({ create, ensure, signal: cancel.signal })).rejects.toMatchObject({
      code: 'ABORTED',
    });
    expect(calls).toEqual(['create']);
  });

  it('reads the missing thing from the engine message, images first', () => {
    expect(missingForCreate(engineError(404, 'No such image: registry/network-tools@sha256:1'))).toBe(
      'image',
    );
    expect(missingForCreate(noNetwork)).toBe('network');
    expect(missingForCreate(engineError(500, 'No such image: x'))).toBeUndefined();
  });
});
