import { readFile } from 'node:fs/promises';
import { CoreError } from '@docker-watcher/core';

/**
 * Parses `--env-file` text: `KEY=VALUE` lines, `#` comments and blank lines skipped, `export `
 * prefixes allowed, one pair of matching quotes around a value removed. A bare `KEY` is skipped
 * (Docker would copy it from the CLI's environment, which a server does not have).
 */
export function parseEnvFile(text: string, file = 'env file'): Record<string, string> {
  const env: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const body = line.replace(/^export\s+/, '');
    const equals = body.indexOf('=');
    if (equals === -1) continue;
    const key = body.slice(0, equals).trim();
    if (!/^[^\s=]+$/.test(key)) {
      throw new CoreError('CONFIG_INVALID', `${file}:${index + 1}: "${key}" is not a variable name`, {
        details: { file, line: index + 1 },
      });
    }
    let value = body.slice(equals + 1).trim();
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.length >= 2 && value.endsWith(quote)) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\n/g, '\n').replace(/\\"/g, '"');
    }
    env[key] = value;
  }
  return env;
}

/** Reads and merges env files in order (later files win). A missing file is a config error. */
export async function readEnvFiles(files: readonly string[]): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new CoreError(
        'CONFIG_INVALID',
        `Env file ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
        { details: { file }, cause: error },
      );
    }
    Object.assign(env, parseEnvFile(text, file));
  }
  return env;
}
