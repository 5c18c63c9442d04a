import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { defaultCaddyBinary, ensureDebianPackage } from '@docker-watcher/testkit';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { isTypeScript, type ReadmeBlock, readmeBlocks, whereIn } from '../../../scripts/readme-blocks.ts';
import { sourceEntries } from '../../../scripts/workspace.ts';
import { inspectConfig } from '../src/config/load.ts';
import { parseYaml } from '../src/config/yaml.ts';

/**
 * Every fenced code block of every README is checked, so a reader can copy it:
 * - `ts` blocks type-check as modules against the workspace sources; `ts runnable` blocks also run;
 * - `yaml` blocks are Docker Watcher configs and pass `check` (a fragment without `registries` or
 *   `projects` gets a memory registry and a project added; every `*_env` variable is set);
 *   `yaml external` blocks are another program's config: only their YAML is checked;
 * - `json` blocks parse; `caddyfile` blocks are adapted by the real Caddy (`caddy adapt`).
 *   Shell, HCL and SQL blocks are not checked.
 * The release rehearsal (scripts/release-rehearsal.ts) type-checks and runs the TypeScript blocks
 * again against the packed packages, outside the workspace.
 */

const root = join(import.meta.dirname, '../../..');

type Block = ReadmeBlock;
const all = readmeBlocks();
const where = (block: Block) => whereIn(block);

/** Each `*_env` variable a config names, set to a value of its own. */
function envFor(code: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const match of code.matchAll(/(\w*)_env:\s*["']?([A-Za-z_][A-Za-z0-9_]*)[^\n#]*(?:#\s*(\S+))?/g)) {
    const [, key, name, comment] = match as unknown as [string, string, string, string | undefined];
    // A bcrypt hash's shape, where the key wants one; a notify channel's URL from its comment.
    env[name] = key.endsWith('password_hash')
      ? `$2b$12$${'a'.repeat(53)}`
      : key === 'url'
        ? comment && /^[a-z+]+:\/\//.test(comment)
          ? comment
          : 'ntfy://ntfy.sh/readme'
        : `readme-${name.toLowerCase()}-value-0123456789`;
  }
  return env;
}

describe('README code blocks', () => {
  it('finds the blocks of every README', () => {
    expect(all.filter((b) => b.lang === 'ts').length).toBeGreaterThan(20);
    expect(all.filter((b) => b.lang === 'yaml').length).toBeGreaterThan(8);
  });

  it.each(all.filter((b) => b.lang === 'yaml').map((b) => [where(b), b] as const))(
    '%s: YAML passes check',
    async (_at, block) => {
      const { value, problems } = parseYaml(block.code);
      expect(problems, where(block)).toEqual([]);
      if (block.flags.includes('external')) return;
      const config = value as Record<string, unknown>;
      // A fragment (a registry, a target, a proxy) stands in a whole file.
      if (config.registries === undefined) config.registries = { readme: { type: 'memory' } };
      if (config.projects === undefined) {
        const registry = Object.keys(config.registries as object)[0]!;
        config.projects = {
          readme: { registry, image: 'readme/app', stages: { dev: { tag_pattern: 'dev-*' } } },
        };
      }
      const report = await inspectConfig(config, envFor(block.code), {
        baseDir: join(root, block.file, '..'),
      });
      expect(report.problems, `${where(block)}\n${parseDocument(block.code).toString()}`).toEqual([]);
      // A README shows today's spelling.
      expect(
        report.warnings.filter((w) => /deprecated/.test(w.message)),
        where(block),
      ).toEqual([]);
    },
  );

  it.each(all.filter((b) => b.lang === 'json').map((b) => [where(b), b] as const))(
    '%s: JSON parses',
    (_at, block) => {
      expect(() => JSON.parse(block.code), where(block)).not.toThrow();
    },
  );

  it.each(all.filter((b) => b.lang === 'caddyfile').map((b) => [where(b), b] as const))(
    '%s: Caddy adapts the Caddyfile',
    async (_at, block) => {
      const caddy = await ensureDebianPackage('caddy', defaultCaddyBinary);
      const dir = join(root, '.cache/readme-blocks/caddyfile');
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `${block.file.replaceAll('/', '_')}-${block.line}.Caddyfile`);
      writeFileSync(file, `${block.code}\n`);
      const adapted = spawnSync(caddy, ['adapt', '--config', file, '--adapter', 'caddyfile'], {
        encoding: 'utf8',
      });
      expect(adapted.status, `${where(block)}: ${adapted.stderr}`).toBe(0);
    },
  );

  it('TypeScript blocks type-check as modules against the workspace', { timeout: 240_000 }, () => {
    const ts = all.filter(isTypeScript);
    // Each block sits in its README's package (its dependencies resolve as there); workspace
    // packages resolve to their sources.
    const dir = join(root, '.cache/readme-blocks');
    for (const file of new Set(ts.map((b) => b.file)))
      rmSync(join(root, dirname(file), '.cache/readme-blocks'), { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const names = new Map<string, Block>();
    ts.forEach((block, index) => {
      // `.cache/` is ignored by git; Node strips types outside node_modules only.
      const folder = join(root, dirname(block.file), '.cache/readme-blocks');
      mkdirSync(folder, { recursive: true });
      const name = join(folder, `block-${index}.ts`);
      names.set(name, block);
      writeFileSync(name, `${block.code}\nexport {};\n`);
    });
    const paths = Object.fromEntries(sourceEntries().map((entry) => [entry.specifier, [entry.file]]));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: relative(dir, join(root, 'tsconfig.json')),
        compilerOptions: { noUnusedLocals: false, paths },
        files: [...names.keys()],
        include: [],
      }),
    );
    const tsc = spawnSync(
      process.execPath,
      [join(root, 'node_modules/typescript/bin/tsc'), '-p', dir, '--noEmit', '--pretty', 'false'],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
    const errors = tsc.stdout
      .split('\n')
      .filter((line) => line.includes('error TS'))
      .map((line) => {
        const match = /^(.*block-\d+\.ts)\((\d+),\d+\): (.*)$/.exec(line);
        const block = match ? (names.get(join(root, match[1]!)) ?? names.get(match[1]!)) : undefined;
        return block ? `${block.file}:${block.line + Number(match![2])}: ${match![3]}` : line;
      });
    expect(errors).toEqual([]);
    for (const [name, block] of names) {
      if (!block.flags.includes('runnable')) continue;
      const run = spawnSync(process.execPath, ['--conditions=@docker-watcher/source', name], {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(run.status, `${where(block)} ran with ${run.status}:\n${run.stderr}`).toBe(0);
    }
  });
});
