// Debian's wrk as the load generator of the API benchmarks: bounded by connections and duration.
import { ensureDebianPackage, runCommand } from '@docker-watcher/testkit';

export const wrkBinary = '/usr/bin/wrk';

export interface WrkResult {
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Answers that were not 2xx or 3xx, and socket errors (connect, read, write, timeout). */
  readonly non2xx: number;
  readonly socketErrors: number;
}

const toMs = (value: string, unit: string) =>
  Number(value) * ({ us: 0.001, ms: 1, s: 1000, m: 60_000 }[unit] ?? Number.NaN);

function parse(output: string): WrkResult {
  const latency = (percent: string) => {
    const match = new RegExp(`^\\s*${percent}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(output);
    return match ? toMs(match[1] ?? '', match[2] ?? '') : Number.NaN;
  };
  const requests = Number(/(\d+) requests in/.exec(output)?.[1] ?? Number.NaN);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  return {
    requests,
    requestsPerSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1] ?? Number.NaN),
    p50Ms: latency('50'),
    p99Ms: latency('99'),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0),
    socketErrors: errors ? errors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
  };
}

/** Installs Debian's wrk when missing (as root), like the testkit does for Caddy. */
export function ensureWrk(): Promise<string> {
  return ensureDebianPackage('wrk', wrkBinary);
}

/** `wrk --latency` with fixed threads, connections and duration against one URL. */
export async function runWrk(params: {
  readonly url: string;
  readonly threads: number;
  readonly connections: number;
  readonly seconds: number;
  readonly headers?: Readonly<Record<string, string>>;
}): Promise<WrkResult> {
  const headerArgs = Object.entries(params.headers ?? {}).flatMap(([name, value]) => [
    '-H',
    `${name}: ${value}`,
  ]);
  const result = await runCommand(
    wrkBinary,
    [
      '--latency',
      `-t${params.threads}`,
      `-c${params.connections}`,
      `-d${params.seconds}s`,
      ...headerArgs,
      params.url,
    ],
    { timeoutMs: (params.seconds + 30) * 1000 },
  );
  if (result.code !== 0) throw new Error(`wrk failed (exit ${result.code}): ${result.stderr.trim()}`);
  return parse(result.stdout);
}
