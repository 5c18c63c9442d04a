import { describe, expect, it } from 'vitest';
import { contentProblems } from './tarball-check.ts';

const files = [
  'LICENSE',
  'README.md',
  'package.json',
  'dist/index.js',
  'dist/index.js.map',
  'dist/index.d.ts',
  'dist/bin.js',
];
const manifest = {
  exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' } },
  bin: { 'docker-watcher': './dist/bin.js' },
  dependencies: { valibot: '1.5.0', '@docker-watcher/core': '^0.1.0' },
};

describe('contentProblems', () => {
  it('accepts a package that holds what it must', () => {
    expect(contentProblems(files, manifest)).toEqual([]);
  });

  it.each([
    ['the LICENSE', files.filter((f) => f !== 'LICENSE'), manifest, 'has no LICENSE'],
    ['the types', files.filter((f) => !f.endsWith('.d.ts')), manifest, 'exports["."].types is not packed'],
    ['the source map', files.filter((f) => !f.endsWith('.map')), manifest, 'ships no source map'],
    ['the bin', files.filter((f) => f !== 'dist/bin.js'), manifest, 'bin "docker-watcher" is not packed'],
    ['sources', [...files, 'src/index.ts'], manifest, 'packs a file outside dist/: src/index.ts'],
    ['tests', [...files, 'dist/a.test.js'], manifest, 'packs a test: dist/a.test.js'],
    [
      'workspace specifiers',
      files,
      { ...manifest, peerDependencies: { '@docker-watcher/core': 'workspace:^' } },
      'peerDependencies.@docker-watcher/core is still "workspace:^"',
    ],
    [
      'catalog specifiers',
      files,
      { ...manifest, dependencies: { valibot: 'catalog:' } },
      'is still "catalog:"',
    ],
  ])('finds a package without %s', (_, packed, packedManifest, problem) => {
    expect(contentProblems(packed, packedManifest).join('\n')).toContain(problem);
  });
});
