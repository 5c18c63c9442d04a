// Helpers for reading Shoutrrr-style service URLs. Messages never quote the URL or its parts:
// service URLs carry tokens and passwords.

/** A problem with a service URL; the message names the part, never its value. */
export class ServiceUrlProblem extends Error {
  override readonly name = 'ServiceUrlProblem';
}

/** What a channel makes of its service URL: its options, and the secret values in them. */
export interface ServiceUrlOptions {
  readonly options: Record<string, unknown>;
  readonly secrets: readonly string[];
}

/**
 * How each query parameter a channel knows is treated: `use` (read by the channel), or a reason it
 * is accepted and ignored (a Shoutrrr presentation setting Docker Watcher decides itself).
 */
export type QuerySpec = Readonly<Record<string, 'use' | { readonly ignored: string }>>;

/** Query parameters by lower-case name (Shoutrrr's are case-insensitive); unknown names are a problem. */
export function readQuery(url: URL, spec: QuerySpec, scheme: string): Map<string, string> {
  const values = new Map<string, string>();
  const unknown: string[] = [];
  for (const [rawName, value] of url.searchParams) {
    const name = rawName.toLowerCase();
    const known = spec[name];
    if (known === undefined || !Object.hasOwn(spec, name)) unknown.push(rawName);
    else if (known === 'use') values.set(name, value);
  }
  if (unknown.length > 0) {
    const names = Object.keys(spec);
    throw new ServiceUrlProblem(
      `${scheme}:// URLs take no parameter ${unknown.map((name) => `"${name}"`).join(', ')}${names.length > 0 ? `; known: ${names.join(', ')}` : ''}`,
    );
  }
  return values;
}

/** Shoutrrr's booleans: yes/no, true/false, 1/0, on/off. */
export function yesNo(value: string | undefined, parameter: string): boolean | undefined {
  if (value === undefined) return undefined;
  const normal = value.trim().toLowerCase();
  if (['yes', 'true', '1', 'on'].includes(normal)) return true;
  if (['no', 'false', '0', 'off'].includes(normal)) return false;
  throw new ServiceUrlProblem(`parameter ${parameter} must be yes or no`);
}

/** A whole number parameter within bounds. */
export function integerParam(
  value: string | undefined,
  parameter: string,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) {
    throw new ServiceUrlProblem(`parameter ${parameter} must be a whole number from ${min} to ${max}`);
  }
  return Number(value);
}

/** A comma-separated list, without empty entries. */
export function listParam(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  return items.length > 0 ? items : undefined;
}

/**
 * Shoutrrr's `title=` sets one title for every message; Docker Watcher's titles say what happened,
 * so it becomes a prefix (`Watchtower: web/prod: v2 deployed`). A value with `{{` is a template as is.
 */
export function titleTemplateParam(value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return value.includes('{{') ? value : `${value}: {{title}}`;
}

export const decode = (part: string): string => {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new ServiceUrlProblem('has a broken %-escape');
  }
};

/** `scheme=http` / `disabletls=yes` style switches to the scheme of the service's base URL. */
export function webScheme(options: {
  readonly disableTls?: boolean | undefined;
  readonly scheme?: string | undefined;
}): 'http' | 'https' {
  if (options.scheme !== undefined) {
    const scheme = options.scheme.toLowerCase();
    if (scheme !== 'http' && scheme !== 'https')
      throw new ServiceUrlProblem('parameter scheme must be http or https');
    return scheme;
  }
  return options.disableTls ? 'http' : 'https';
}

/** Secret values of a URL: its password, user (some services put tokens there) and path segments. */
export function urlSecrets(...values: ReadonlyArray<string | undefined>): string[] {
  return values.filter((value): value is string => typeof value === 'string' && value.length >= 4);
}
