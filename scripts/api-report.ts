// Core's public surface as API reports (`packages/core/api/*.api.md`, made by api-extractor from the
// declarations that ship), so a change to what users can import shows in review.
//   node scripts/api-report.ts           fails when a report no longer matches the code
//   node scripts/api-report.ts --update  rewrites the reports (commit them with the change)
// Offline and quick: one declaration-only build of core into a cache folder, then one report per
// entry of core's package.json `exports`.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Extractor,
  ExtractorConfig,
  ExtractorLogLevel,
  type ExtractorMessage,
} from '@microsoft/api-extractor';
import { root } from './workspace.ts';

const packageDir = join(root, 'packages/core');
const reportDir = join(packageDir, 'api');
// Outside node_modules: api-extractor reads declarations under it as another package's.
const buildDir = join(packageDir, '.cache/api-report');

interface Entry {
  /** `.` or `./testing`, as package.json names it. */
  readonly subpath: string;
  /** `core`, `core-testing`: the report is `<name>.api.md`. */
  readonly name: string;
  /** The entry's declarations in the cache build. */
  readonly dts: string;
}

/** One entry per `exports` key of core, its declarations where the cache build puts them. */
function entries(): Entry[] {
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    exports: Record<string, { types: string }>;
  };
  return Object.entries(manifest.exports).map(([subpath, target]) => ({
    subpath,
    name: subpath === '.' ? 'core' : `core-${subpath.slice(2).replaceAll('/', '-')}`,
    dts: join(buildDir, target.types.replace(/^\.\/dist\//, '')),
  }));
}

function buildDeclarations(): void {
  execFileSync('pnpm', ['-s', 'exec', 'tsup', '--dts-only', '--silent', '--out-dir', buildDir], {
    cwd: packageDir,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** Writes or compares one report; returns the problems found (a stale report, compiler errors). */
function report(entry: Entry, update: boolean): string[] {
  const config = ExtractorConfig.prepare({
    configObject: {
      projectFolder: packageDir,
      mainEntryPointFilePath: entry.dts,
      compiler: {
        overrideTsconfig: {
          compilerOptions: {
            strict: true,
            module: 'nodenext',
            target: 'es2023',
            types: ['node'],
            skipLibCheck: true,
          },
          files: [entry.dts],
        },
      },
      apiReport: {
        enabled: true,
        reportFileName: entry.name,
        reportFolder: reportDir,
        reportTempFolder: join(buildDir, 'reports'),
      },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      newlineKind: 'lf',
      messages: {
        compilerMessageReporting: { default: { logLevel: ExtractorLogLevel.Error } },
        // A type the main entry uses but does not export goes into the report, where a reviewer sees
        // it. Nothing else: the other findings (release tags, undocumented members) name the build's
        // chunk files, whose hashed names would make the report change with every edit. The subpath
        // entries use the main entry's types (DeployRecord, CoreError…) without exporting them.
        extractorMessageReporting: {
          default: { logLevel: ExtractorLogLevel.None, addToApiReportFile: false },
          'ae-forgotten-export': {
            logLevel: ExtractorLogLevel.None,
            addToApiReportFile: entry.subpath === '.',
          },
        },
        tsdocMessageReporting: { default: { logLevel: ExtractorLogLevel.None, addToApiReportFile: false } },
      },
    },
    configObjectFullPath: undefined,
    packageJsonFullPath: join(packageDir, 'package.json'),
  });
  const errors: string[] = [];
  const result = Extractor.invoke(config, {
    localBuild: update,
    messageCallback: (message: ExtractorMessage) => {
      if (message.logLevel === ExtractorLogLevel.Error)
        errors.push(`${entry.subpath}: ${message.formatMessageWithLocation(root)}`);
      message.handled = true;
    },
  });
  if (!update && result.apiReportChanged) {
    errors.push(
      `${entry.subpath}: the public surface changed and packages/core/api/${entry.name}.api.md does not show it ` +
        `(the new one is ${join(buildDir, 'reports', `${entry.name}.api.md`)}); ` +
        'if the change is meant, run `node scripts/api-report.ts --update` and commit the report',
    );
  }
  return errors;
}

const update = process.argv.includes('--update');
const started = Date.now();
mkdirSync(reportDir, { recursive: true });
buildDeclarations();
const problems = entries().flatMap((entry) => report(entry, update));
for (const problem of problems) console.error(`api-report: ${problem}`);
const verb = update ? 'wrote' : 'checked';
console.log(`api-report: ${verb} ${entries().length} reports in ${Date.now() - started} ms`);
process.exitCode = problems.length > 0 ? 1 : 0;
