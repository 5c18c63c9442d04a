// The style's package rules as failures (see ../shared/STYLE.md "Layout" and "Tooling").
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root, sourceOf, type WorkspacePackage } from './workspace.ts';

const adapterPrefixes = ['registry-', 'target-', 'proxy-', 'store-', 'notifier-'];

export function isAdapter(pkg: WorkspacePackage): boolean {
  const base = pkg.dir.split('/').at(-1) ?? '';
  return pkg.dir.startsWith('packages/') && adapterPrefixes.some((prefix) => base.startsWith(prefix));
}

export interface ConventionContext {
  exists(path: string): boolean;
  /** A file's text, relative to the workspace root; `undefined` when it does not exist. */
  read(path: string): string | undefined;
  /** Specifier -> files in tsconfig `paths`. */
  tsconfigPaths: Record<string, string[]>;
  /** The root package.json: its repository and engines are every published package's. */
  rootManifest: { repository?: { url?: string }; engines?: { node?: string } };
}

export function defaultContext(): ConventionContext {
  const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8'));
  const read = (path: string) =>
    existsSync(join(root, path)) ? readFileSync(join(root, path), 'utf8') : undefined;
  return {
    exists: (path) => existsSync(join(root, path)),
    read,
    tsconfigPaths: tsconfig.compilerOptions?.paths ?? {},
    rootManifest: JSON.parse(read('package.json') ?? '{}'),
  };
}

/** What a published package needs besides its code: licence, links, engines, a word on ESM. */
function publishMetadataProblems(pkg: WorkspacePackage, context: ConventionContext): string[] {
  const { manifest, dir } = pkg;
  const problems: string[] = [];
  const licence = context.read(`${dir}/LICENSE`);
  if (licence === undefined) problems.push('needs a LICENSE file (a copy of the root LICENSE; npm packs it)');
  else if (licence !== context.read('LICENSE')) problems.push('LICENSE must be a copy of the root LICENSE');
  const repository = manifest.repository as { type?: string; url?: string; directory?: string } | undefined;
  const url = context.rootManifest.repository?.url;
  if (repository?.type !== 'git' || repository.url !== url || repository.directory !== dir)
    problems.push(`"repository" must be { "type": "git", "url": "${url}", "directory": "${dir}" }`);
  if (typeof manifest.homepage !== 'string' || !manifest.homepage.includes(dir))
    problems.push(`"homepage" must link to ${dir}'s README`);
  if (typeof (manifest.bugs as { url?: string } | undefined)?.url !== 'string')
    problems.push('needs "bugs": { "url" }');
  const engines = manifest.engines as { node?: string } | undefined;
  if (engines?.node !== context.rootManifest.engines?.node)
    problems.push(`"engines.node" must be the root's (${context.rootManifest.engines?.node})`);
  if (!context.read(`${dir}/README.md`)?.includes('ESM only'))
    problems.push('README must say the package is ESM only');
  return problems;
}

/** Every broken rule, as `<package dir>: <problem>` lines. */
export function checkConventions(packages: WorkspacePackage[], context: ConventionContext): string[] {
  const problems: string[] = [];
  for (const pkg of packages) {
    const { manifest, dir } = pkg;
    const problem = (text: string) => problems.push(`${dir}: ${text}`);
    if (!context.exists(`${dir}/README.md`)) problem('has no README.md');
    if (manifest.type !== 'module') problem('"type" must be "module"');
    if (dir.startsWith('examples/') && manifest.private !== true)
      problem('examples are never published: set "private": true');
    if (!manifest.name.startsWith('@docker-watcher/'))
      problem('the package name must be in the @docker-watcher scope');
    // Examples are never published or imported by packages: their exports are theirs to shape.
    const exportsToCheck = dir.startsWith('examples/') ? {} : (manifest.exports ?? {});
    for (const [subpath, target] of Object.entries(exportsToCheck)) {
      if (typeof target === 'string') {
        problem(`exports["${subpath}"] must be an object with "types" first, then "import"`);
        continue;
      }
      if (Object.keys(target)[0] !== 'types') problem(`exports["${subpath}"] must list "types" first`);
      if (!target.import) continue;
      const source = `${dir}/${sourceOf(target.import).slice(2)}`;
      if (!context.exists(source))
        problem(`exports["${subpath}"] builds from ${source}, which does not exist`);
      const specifier = subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`;
      const mapped = context.tsconfigPaths[specifier];
      if (!mapped?.includes(`./${source}`))
        problem(`tsconfig.json "paths" must map ${specifier} to ./${source} (typecheck against source)`);
    }
    if (manifest.private === true || dir.startsWith('examples/')) continue;
    // Publishable packages.
    for (const text of publishMetadataProblems(pkg, context)) problem(text);
    const files = manifest.files as unknown;
    if (!Array.isArray(files) || files.length !== 1 || files[0] !== 'dist')
      problem('"files" must be ["dist"]');
    if (!manifest.exports) problem('needs an "exports" map');
    const scripts = (manifest.scripts ?? {}) as Record<string, string>;
    if (!scripts.build) problem('needs a "build" script (tsup)');
    if (!context.exists(`${dir}/src/index.ts`)) problem('needs src/index.ts');
    if (isAdapter(pkg)) {
      const peers = (manifest.peerDependencies ?? {}) as Record<string, string>;
      const deps = (manifest.dependencies ?? {}) as Record<string, string>;
      if (!peers['@docker-watcher/core']) problem('adapters peer-depend on @docker-watcher/core');
      if (deps['@docker-watcher/core'])
        problem('@docker-watcher/core must be a peer dependency, not a dependency');
      if (!context.exists(`${dir}/test/conformance.test.ts`))
        problem('adapters run the conformance kit in test/conformance.test.ts');
      if (!context.exists(`${dir}/src/options.ts`))
        problem('adapters keep their valibot options schema in src/options.ts');
    }
  }
  return problems;
}
