import { describe, expect, it } from 'vitest';
import { type ConventionContext, checkConventions } from './conventions.ts';
import type { WorkspacePackage } from './workspace.ts';

const repository = 'git+https://example.test/docker-watcher.git';
const good: WorkspacePackage = {
  dir: 'packages/registry-acme',
  short: 'registry-acme',
  manifest: {
    name: '@docker-watcher/registry-acme',
    type: 'module',
    repository: { type: 'git', url: repository, directory: 'packages/registry-acme' },
    homepage: 'https://example.test/tree/main/packages/registry-acme#readme',
    bugs: { url: 'https://example.test/issues' },
    engines: { node: '>=22.13' },
    files: ['dist'],
    scripts: { build: 'tsup' },
    exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' } },
    peerDependencies: { '@docker-watcher/core': 'workspace:^' },
  },
};

function context(missing: string[] = [], files: Record<string, string> = {}): ConventionContext {
  const texts: Record<string, string> = {
    LICENSE: 'MIT License\n',
    'packages/registry-acme/LICENSE': 'MIT License\n',
    'packages/registry-acme/README.md': '# acme\n\nESM only: load it with `import`.\n',
    ...files,
  };
  return {
    exists: (path) => !missing.includes(path),
    read: (path) => (missing.includes(path) ? undefined : texts[path]),
    tsconfigPaths: { '@docker-watcher/registry-acme': ['./packages/registry-acme/src/index.ts'] },
    rootManifest: { repository: { url: repository }, engines: { node: '>=22.13' } },
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
    ['a LICENSE', context(['packages/registry-acme/LICENSE']), good, 'needs a LICENSE file'],
    [
      'the root LICENSE',
      context([], { 'packages/registry-acme/LICENSE': 'ISC\n' }),
      good,
      'LICENSE must be a copy of the root LICENSE',
    ],
    [
      'its directory in repository',
      context(),
      withManifest({ repository: { type: 'git', url: repository } }),
      '"repository" must be',
    ],
    ['homepage', context(), withManifest({ homepage: undefined }), '"homepage" must link'],
    ['bugs', context(), withManifest({ bugs: undefined }), 'needs "bugs"'],
    ["the root's engines", context(), withManifest({ engines: { node: '>=20' } }), '"engines.node" must be'],
    [
      'ESM only in the README',
      context([], { 'packages/registry-acme/README.md': '# acme\n' }),
      good,
      'README must say the package is ESM only',
    ],
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
