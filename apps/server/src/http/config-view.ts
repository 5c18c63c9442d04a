import type { ResolvedConfig } from '../config/load.ts';

export interface ConfigValue {
  readonly path: string;
  readonly value: unknown;
  readonly source: 'file' | 'env' | 'default';
  readonly secret?: true;
}

const mask = '********';
// Keys whose values are secrets when written into the file (hashes, passwords, keys); `*_env` keys
// only name a variable and are shown.
const secretKey = /(password|secret|token|hash|private|credential|key)$/i;

const has = (value: unknown, key: string): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && Object.hasOwn(value, key);

/** A URL's password is masked (`postgres://user:****@host/db`); other text stays as it is. */
function withoutPassword(text: string): string {
  try {
    const url = new URL(text);
    if (url.password === '') return text;
    url.password = mask;
    return url.toString();
  } catch {
    return text;
  }
}

/**
 * The running config as a list of leaf values with where each came from: the file (written there, or
 * read from a `*_file`), the environment (`DOCKER_WATCHER_*` variables, `*_env` keys) or a default.
 * Values that are secrets (known secret values, values read through `*_env`/`*_file`, secret keys
 * written into the file, passwords in URLs) are masked.
 */
export function configValues(config: ResolvedConfig): ConfigValue[] {
  const secrets = new Set(config.secrets);
  const values: ConfigValue[] = [];
  const walk = (value: unknown, raw: unknown, path: string, inFile: boolean) => {
    if (Array.isArray(value)) {
      for (const [index, item] of value.entries())
        walk(
          item,
          Array.isArray(raw) ? raw[index] : undefined,
          `${path}.${index}`,
          inFile && Array.isArray(raw),
        );
      return;
    }
    if (typeof value === 'object' && value !== null) {
      for (const [key, child] of Object.entries(value)) {
        const childPath = path === '' ? key : `${path}.${key}`;
        walk(child, has(raw, key) ? raw[key] : undefined, childPath, inFile && has(raw, key));
      }
      return;
    }
    if (value === undefined) return;
    const key = path.split('.').at(-1) ?? '';
    const from = config.sources.get(path);
    const secret =
      (typeof value === 'string' && secrets.has(value)) || (!key.endsWith('_env') && secretKey.test(key));
    values.push({
      path,
      value: secret ? mask : typeof value === 'string' ? withoutPassword(value) : value,
      source: from ?? (inFile ? 'file' : 'default'),
      ...(secret ? { secret: true as const } : {}),
    });
  };
  walk(config.file, config.raw, '', true);
  return values;
}
