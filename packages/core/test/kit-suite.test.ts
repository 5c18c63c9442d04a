import { describe, expect, it } from 'vitest';
import { deployTargetCases } from '../src/testing/deploy-target-suite.ts';
import { runRegistryCase } from '../src/testing/index.ts';
import { notifierCases } from '../src/testing/notifier-suite.ts';
import { type RegistryHarness, registryCases, registrySuite } from '../src/testing/registry-suite.ts';
import { reverseProxyCases } from '../src/testing/reverse-proxy-suite.ts';
import { stateStoreCases } from '../src/testing/state-store-suite.ts';
import { registerSuite, runCases, type SuiteOptions, type TestApi } from '../src/testing/suite.ts';
import { describeRegistry } from '../src/testing/vitest.ts';
import { memoryRegistryHarness, webhookSecret } from './memory-harnesses.ts';

interface Recorded {
  readonly name: string;
  readonly skipped: boolean;
  readonly body: (context: { skip(note?: string): never }) => Promise<void>;
}

class Skipped extends Error {}

/** A TestApi that records registrations instead of running them. */
function recorder(): { api: TestApi; tests: Recorded[]; run(name: string): Promise<'passed' | 'skipped'> } {
  const tests: Recorded[] = [];
  const it = Object.assign(
    (name: string, body: Recorded['body']) => {
      tests.push({ name, skipped: false, body });
    },
    { skip: (name: string) => tests.push({ name, skipped: true, body: async () => {} }) },
  );
  return {
    api: { describe: (_name, body) => body(), it },
    tests,
    async run(name) {
      const test = tests.find((candidate) => candidate.name.startsWith(name));
      if (!test) throw new Error(`no test ${name}`);
      try {
        await test.body({
          skip: (note) => {
            throw new Skipped(note);
          },
        });
        return 'passed';
      } catch (error) {
        if (error instanceof Skipped) return 'skipped';
        throw error;
      }
    },
  };
}

const registryOptions = (skip?: object): SuiteOptions<RegistryHarness, object> => ({
  name: 'registry:memory',
  create: () => memoryRegistryHarness({ webhookSecret }),
  ...(skip ? { skip } : {}),
});

describe('case tables', () => {
  it('have unique kebab-case ids and titles', () => {
    for (const table of [
      registryCases,
      deployTargetCases,
      reverseProxyCases,
      notifierCases,
      stateStoreCases,
    ]) {
      const ids = table.map((spec) => spec.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const spec of table) {
        expect(spec.id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
        expect(spec.title.length).toBeGreaterThan(0);
      }
    }
  });
});

describe('skips', () => {
  it('an unknown id registers a failing test and the other cases still run', async () => {
    const { api, tests, run } = recorder();
    registerSuite(registrySuite, registryOptions({ 'no-such-case': 'stale skip' }), api);
    await expect(run('skip map names known cases')).rejects.toThrow('unknown case id "no-such-case"');
    expect(tests.filter((test) => !test.skipped)).toHaveLength(registryCases.length + 1);
  });

  it('an empty reason registers a failing test', async () => {
    const { api, run } = recorder();
    registerSuite(registrySuite, registryOptions({ 'list-tags-spans-pages': '  ' }), api);
    await expect(run('skip map names known cases')).rejects.toThrow(
      'skip of "list-tags-spans-pages" needs a non-empty reason',
    );
  });

  it('a skip with a reason is reported as skipped, with the reason in its name, and not run', () => {
    const { api, tests } = recorder();
    registerSuite(
      registrySuite,
      registryOptions({ 'list-tags-spans-pages': 'the backend holds 50 tags at most' }),
      api,
    );
    const skipped = tests.filter((test) => test.skipped).map((test) => test.name);
    expect(skipped).toEqual([
      'list-tags-spans-pages: listTags returns every tag of a repository larger than one page (skipped: the backend holds 50 tags at most)',
    ]);
    expect(tests.some((test) => test.name.startsWith('skip map'))).toBe(false);
  });

  it('are typed: unknown ids and missing reasons do not compile', () => {
    // Never called: these lines are checked by the type checker only.
    const typeChecks = () => {
      const create = () => memoryRegistryHarness();
      describeRegistry({
        name: 'ok',
        create,
        skip: { 'list-tags-spans-pages': 'the backend holds 50 tags at most' },
      });
      // @ts-expect-error an unknown case id
      describeRegistry({ name: 'unknown id', create, skip: { 'list-tags-spans-page': 'typo' } });
      // @ts-expect-error an empty reason
      describeRegistry({ name: 'empty reason', create, skip: { 'list-tags-spans-pages': '' } });
      // @ts-expect-error a flag instead of a reason
      describeRegistry({ name: 'no reason', create, skip: { 'list-tags-spans-pages': true } });
      // @ts-expect-error no reason at all
      describeRegistry({ name: 'undefined reason', create, skip: { 'list-tags-spans-pages': undefined } });
    };
    expect(typeof typeChecks).toBe('function');
  });
});

describe('capability gates', () => {
  it('a gated case is skipped, with the claim as its note, when the adapter does not claim it', async () => {
    const { api, run } = recorder();
    registerSuite(registrySuite, { name: 'no webhooks', create: () => memoryRegistryHarness({}) }, api);
    expect(await run('webhook-forged-is-unauthorized')).toBe('skipped');
    expect(await run('parse-webhook-absent-when-unclaimed')).toBe('passed');
  });

  it('runs exactly when claimed, and the absence check exactly when not', async () => {
    const withHooks = () => memoryRegistryHarness({ webhookSecret });
    const withoutHooks = () => memoryRegistryHarness({});
    expect(await runRegistryCase('webhook-signed-gives-observations', withHooks)).toEqual({
      id: 'webhook-signed-gives-observations',
      status: 'passed',
    });
    expect(await runRegistryCase('webhook-signed-gives-observations', withoutHooks)).toEqual({
      id: 'webhook-signed-gives-observations',
      status: 'not-applicable',
      reason: 'capabilities.webhooks is not claimed',
    });
    expect(await runRegistryCase('parse-webhook-absent-when-unclaimed', withHooks)).toMatchObject({
      status: 'not-applicable',
    });
  });

  it('a claimed capability without harness support fails with a hint instead of passing', async () => {
    const result = await runRegistryCase('webhook-forged-is-unauthorized', () => {
      const { webhooks: _dropped, ...harness } = memoryRegistryHarness({ webhookSecret });
      return harness;
    });
    expect(result.status).toBe('failed');
    expect(String((result as { error: Error }).error.message)).toContain('the harness needs `webhooks`');
  });
});

describe('lifecycle', () => {
  it('creates a fresh harness per case and disposes adapter and harness after each, also on failure', async () => {
    let created = 0;
    let adaptersDisposed = 0;
    let harnessesDisposed = 0;
    const results = await runCases(registrySuite, () => {
      created += 1;
      const harness = memoryRegistryHarness({ webhookSecret }, (registry) => ({
        ...registry,
        // Breaks one case, to show that a failure still disposes.
        listTags: async () => [],
        dispose: async () => {
          adaptersDisposed += 1;
          await registry.dispose();
        },
      }));
      return {
        ...harness,
        dispose: async () => {
          harnessesDisposed += 1;
        },
      };
    });
    expect(results.some((result) => result.status === 'failed')).toBe(true);
    expect(created).toBe(registryCases.length);
    expect(harnessesDisposed).toBe(registryCases.length);
    // dispose-is-idempotent disposes twice itself; the runner once more.
    expect(adaptersDisposed).toBe(registryCases.length + 2);
  });

  it('reports a harness that cannot be created as a failure', async () => {
    const result = await runRegistryCase('dispose-is-idempotent', () => {
      throw new Error('no backend');
    });
    expect(result).toMatchObject({ status: 'failed', error: new Error('no backend') });
  });

  it('runCases reports skipped cases without running them', async () => {
    let created = 0;
    const results = await runCases(
      registrySuite,
      () => {
        created += 1;
        return memoryRegistryHarness({ webhookSecret });
      },
      { skip: { 'list-tags-spans-pages': 'slow backend' } },
    );
    expect(results.find((result) => result.id === 'list-tags-spans-pages')).toEqual({
      id: 'list-tags-spans-pages',
      status: 'skipped',
      reason: 'slow backend',
    });
    expect(created).toBe(registryCases.length - 1);
  });
});
