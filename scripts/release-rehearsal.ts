// The release rehearsal: what `changeset version` + `changeset publish` would ship, installed and
// used the way a user would, outside the workspace. Part of the test command; run `pnpm build` first.
//
//   node scripts/release-rehearsal.ts
//
// 1. `changeset version` and `pnpm pack` of every public package (scripts/pack.ts, in a scratch copy);
// 2. each tarball holds what it must (LICENSE, README, built entries with types and source maps) and
//    no workspace-only specifier;
// 3. a scratch project in the system's temp folder installs the tarballs (vitest not among them);
// 4. it type-checks an import of every public entry with `skipLibCheck: false` (the published types
//    must compile), imports every entry at run time (`@docker-watcher/core/testing` without vitest),
//    and opens a SQLite store;
// 4b. every README's TypeScript blocks that import only published entries (and node:*) type-check
//    there too, and the `ts runnable` ones run (scripts/readme-blocks.ts);
// 5. the packed CLI runs (`--help`, `check` of a config);
// 6. an older Node (the system's, when it is older than 22.13) gets a clear message from the CLI and
//    the SQLite store instead of "No such built-in module".
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PackedPackage, packPublicPackages } from './pack.ts';
import { type ReadmeBlock, readmeLines, writeReadmeBlocks } from './readme-blocks.ts';
import { tarballProblems } from './tarball-check.ts';
import { root } from './workspace.ts';

const problems: string[] = [];
const step = (text: string) => console.log(`rehearsal: ${text}`);

function sh(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 300_000 });
}

function expectRun(what: string, result: ReturnType<typeof sh>, code: number, output: RegExp): void {
  const text = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.status !== code || !output.test(text))
    problems.push(`${what}: exit ${result.status} (wanted ${code}), output:\n${text.trim().slice(0, 2_000)}`);
}

const catalog = (name: string) =>
  new RegExp(`^\\s+"?${name.replace('/', '\\/')}"?: (\\S+)$`, 'm').exec(
    readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8'),
  )?.[1];

/** The scratch project: every tarball, TypeScript and Node's types, and nothing of the workspace. */
function writeApp(app: string, packed: readonly PackedPackage[]): Map<string, ReadmeBlock> {
  mkdirSync(app, { recursive: true });
  const tarballs = Object.fromEntries(packed.map((p) => [p.name, `file:${p.tarball}`]));
  const manifest = {
    name: 'docker-watcher-rehearsal',
    private: true,
    type: 'module',
    dependencies: tarballs,
    devDependencies: {
      typescript: catalog('typescript'),
      '@types/node': catalog('@types/node'),
      // The custom adapter README's option schema, as an adapter author installs it.
      valibot: catalog('valibot'),
    },
  };
  writeFileSync(join(app, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  // Packages depend on each other by version; the overrides point those at the tarballs too.
  const overrides = packed.map((p) => `  "${p.name}": "file:${p.tarball}"`).join('\n');
  writeFileSync(join(app, 'pnpm-workspace.yaml'), `overrides:\n${overrides}\n`);
  const imports = packed.flatMap((p) =>
    p.name === '@docker-watcher/core' ? [p.name, `${p.name}/store-kit`, `${p.name}/testing`] : [p.name],
  );
  writeFileSync(
    join(app, 'check.ts'),
    `${imports.map((name, i) => `import * as entry${i} from '${name}';`).join('\n')}\n` +
      `export const entries = [${imports.map((_, i) => `entry${i}`).join(', ')}];\n` +
      // The Docker target's public client type is dockerode's: it must resolve for users too.
      `export type DockerClient = import('@docker-watcher/target-docker').DockerTarget['docker'];\n`,
  );
  const blocks = writeReadmeBlocks(app, packed);
  writeFileSync(
    join(app, 'tsconfig.json'),
    `${JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', target: 'es2023', types: ['node'], skipLibCheck: false, noEmit: true }, files: ['check.ts', ...blocks.keys()] }, null, 2)}\n`,
  );
  writeFileSync(
    join(app, 'run.mjs'),
    `${imports.map((name) => `await import('${name}');`).join('\n')}
const testing = await import('@docker-watcher/core/testing');
if (typeof testing.runCases !== 'function') throw new Error('core/testing has no runCases');
const vitest = await import('vitest').then(() => 'installed', () => 'absent');
if (vitest !== 'absent') throw new Error('vitest is installed in the scratch project: the check proves nothing');
const { createSqliteStateStore } = await import('@docker-watcher/store-sqlite');
const store = createSqliteStateStore({ path: ':memory:' });
await store.dispose();
console.log('imported ${imports.length} entries; core/testing without vitest; a SQLite store opened');
`,
  );
  writeFileSync(
    join(app, 'config.yml'),
    `global:
  store: sqlite:./rehearsal.db
  target: { type: memory }
  poll_interval_seconds: 0
registries:
  local: { type: memory }
projects:
  web-app:
    registry: local
    image: registry.test/team/web-app
    stages: { dev: { tag_pattern: "dev-*", auto_deploy: true } }
`,
  );
  return blocks;
}

/** A Node older than 22.13 to check the messages with: DW_OLD_NODE, or the system's /usr/bin/node. */
function olderNode(): string | undefined {
  for (const candidate of [process.env.DW_OLD_NODE, '/usr/bin/node']) {
    if (!candidate || !existsSync(candidate)) continue;
    const version = execFileSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
    const [major = 0, minor = 0] = version.split('.').map(Number);
    if (major < 22 || (major === 22 && minor < 13)) return candidate;
  }
  return undefined;
}

function checkOlderNode(app: string): void {
  const node = olderNode();
  if (!node) {
    const note = 'no Node older than 22.13 here (set DW_OLD_NODE) to check the messages an older Node gets';
    if (process.env.CI === 'true') problems.push(note);
    else step(`skipped: ${note}`);
    return;
  }
  const cli = join(app, 'node_modules/@docker-watcher/server/dist/bin.js');
  expectRun(`the CLI on ${node}`, sh(node, [cli, '--help'], app), 1, /needs Node\.js 22\.13 or newer/);
  const open = `import('@docker-watcher/store-sqlite').then((m) => m.createSqliteStateStore({ path: ':memory:' })).catch((e) => { console.error(e.message); process.exit(1); })`;
  expectRun(
    `the SQLite store on ${node}`,
    sh(node, ['--input-type=module', '-e', open], app),
    1,
    /SQLite store needs Node\.js 22\.13 or newer/,
  );
}

function rehearse(work: string): void {
  step('changeset version and pnpm pack of every public package');
  const packed = packPublicPackages({ out: join(work, 'tarballs'), version: true });
  for (const p of packed)
    for (const problem of tarballProblems(p.tarball)) problems.push(`${p.name}: ${problem}`);
  step(`${packed.length} tarballs: ${packed.map((p) => `${p.name}@${p.version}`).join(', ')}`);

  const app = join(work, 'app');
  const blocks = writeApp(app, packed);
  step(`installing them into a scratch project outside the workspace (${app})`);
  const install = sh('pnpm', ['install', '--prefer-offline', '--reporter=append-only'], app);
  if (install.status !== 0) {
    problems.push(`pnpm install of the tarballs failed:\n${install.stdout}${install.stderr}`);
    return;
  }
  step(`type-checking an import of every entry and ${blocks.size} README blocks with skipLibCheck: false`);
  const tsc = sh(join(app, 'node_modules/.bin/tsc'), ['-p', app, '--pretty', 'false'], app);
  expectRun('tsc', { ...tsc, stdout: readmeLines(tsc.stdout, blocks) }, 0, /^$/);
  for (const [file, block] of blocks)
    if (block.flags.includes('runnable'))
      expectRun(`${block.file}:${block.line} (runnable)`, sh(process.execPath, [file], app), 0, /(?:)/);
  expectRun(
    'importing every entry',
    sh(process.execPath, ['run.mjs'], app),
    0,
    /core\/testing without vitest/,
  );
  step('running the packed CLI');
  const cli = join(app, 'node_modules/.bin/docker-watcher');
  expectRun('docker-watcher --help', sh(cli, ['--help'], app), 0, /Usage: docker-watcher/);
  expectRun('docker-watcher check', sh(cli, ['check', '--config', 'config.yml'], app), 0, /valid/);
  checkOlderNode(app);
}

const work = mkdtempSync(join(tmpdir(), 'dw-rehearsal-'));
const started = Date.now();
try {
  rehearse(work);
} catch (error) {
  problems.push(`the rehearsal stopped: ${(error as Error).message}`);
}
if (problems.length > 0) {
  console.error(`rehearsal: FAILED (the scratch folder stays for a look: ${work})`);
  for (const problem of problems) console.error(`  - ${problem}`);
  process.exit(1);
}
if (process.env.DW_REHEARSAL_KEEP) step(`kept ${work}`);
else rmSync(work, { recursive: true, force: true });
step(`passed in ${Math.round((Date.now() - started) / 1000)} s`);
