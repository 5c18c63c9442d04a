import { describe, expect, it } from 'vitest';
import { type ConventionContext, checkConventions } from './conventions.ts';
import type { WorkspacePackage } from './workspace.ts';

const good: WorkspacePackage = {
  dir: 'packages/registry-acme',
  short: 'registry-acme',
  manifest: {
    name: '@docker-watcher/registry-acme',
    type: 'module',
    files: ['dist'],
    scripts: { build: 'tsup' },
    exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' } },
    peerDependencies: { '@docker-watcher/core': 'workspace:^' },
  },
};

function context(missing: string[] = []): ConventionContext {
  return {
    exists: (path) => !missing.includes(path),
    tsconfigPaths: { '@docker-watcher/registry-acme': ['./packages/registry-acme/src/index.ts'] },
  };
}

function withManifest(change: Record<string, unknown>): WorkspacePackage {
  return { ...good, manifest: { ...good.manifest, ...change } };
}

describe('workspace conventions', () => {
  it('accepts a package that follows them', () => {
    expect(checkConventions([good], context())).toEqual([]);
  });

  it.each([
    ['README', context(['packages/registry-acme/README.md']), good, 'has no README.md'],
    [
      'conformance test',
      context(['packages/registry-acme/test/conformance.test.ts']),
      good,
      'conformance kit',
    ],
    ['options schema file', context(['packages/registry-acme/src/options.ts']), good, 'src/options.ts'],
    [
      'types first',
      context(),
      withManifest({ exports: { '.': { import: './dist/index.js', types: './dist/index.d.ts' } } }),
      '"types" first',
    ],
    ['files', context(), withManifest({ files: ['dist', 'src'] }), '"files" must be ["dist"]'],
    ['peer on core', context(), withManifest({ peerDependencies: {} }), 'peer-depend'],
    [
      'core as a dependency',
      context(),
      withManifest({ dependencies: { '@docker-watcher/core': 'workspace:^' } }),
      'not a dependency',
    ],
    ['source of an export', context(['packages/registry-acme/src/index.ts']), good, 'does not exist'],
    ['typecheck paths', { ...context(), tsconfigPaths: {} }, good, 'tsconfig.json "paths"'],
  ])('fails without %s', (_, ctx, pkg, expected) => {
    const problems = checkConventions([pkg], ctx);
    expect(problems.join('\n')).toContain(expected);
  });

  it('keeps examples private', () => {
    const example: WorkspacePackage = {
      dir: 'examples/x',
      short: 'example-x',
      manifest: { name: '@docker-watcher/example-x', type: 'module' },
    };
    expect(checkConventions([example], context())).toEqual([
      'examples/x: examples are never published: set "private": true',
    ]);
  });
});
