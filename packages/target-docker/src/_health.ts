import {
  type CoreError,
  createHttpTransport,
  type HealthReport,
  isCoreError,
  type NetworkReason,
  networkFailure,
} from '@docker-watcher/core';
import type Docker from 'dockerode';

// docker-proxy accepts on the published port and resets when nothing listens in the container yet.
const probeReasons: ReadonlyMap<NetworkReason, string> = new Map<NetworkReason, string>([
  ['refused', 'connection refused'],
  ['reset', 'connection reset'],
  ['unreachable', 'host unreachable'],
]);

/** A probe's transport lives as long as its one request: nothing to dispose. */
const probeLifetime = new AbortController().signal;

/** Why a probe got no answer, in a few words: the network reason, else the cause's message. */
function probeFailure(error: CoreError, what: string, timeoutMs: number): string {
  if (error.code === 'TIMEOUT') return `${what}: no answer within ${timeoutMs} ms`;
  const failure = networkFailure(error.cause);
  if (failure) return `${what}: ${probeReasons.get(failure.reason) ?? failure.code}`;
  return `${what}: ${error.cause instanceof Error ? error.cause.message : error.message}`;
}

/**
 * One HTTP GET through core's transport with its own time limit, no redirect followed, the answer's
 * head only (its body is never read) and no connection reuse (each probe is one short-lived socket,
 * and a container that is gone leaves no pooled socket behind). 2xx and 3xx are healthy.
 */
export async function probeHttp(params: {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}): Promise<HealthReport> {
  const { host, port, path, timeoutMs, signal } = params;
  const what = `GET ${path}`;
  const url = new URL(`http://${host.includes(':') ? `[${host}]` : host}:${port}`);
  const http = createHttpTransport({
    identity: { id: 'health probe', url: url.origin },
    timeoutMs,
    lifetime: probeLifetime,
    userAgent: 'docker-watcher-health',
    keepAlive: false,
    redirects: 'refuse',
  });
  try {
    const { status } = await http.request({
      // Appended to the origin, never resolved against it: a path like `//other/` stays on this host.
      url: new URL(`${url.origin}${path.startsWith('/') ? '' : '/'}${path}`),
      what,
      headOnly: true,
      ...(signal ? { signal } : {}),
    });
    return {
      status: status >= 200 && status < 400 ? 'healthy' : 'unhealthy',
      detail: `${what} -> ${status}`,
      httpStatus: status,
    };
  } catch (error) {
    if (!isCoreError(error) || error.code === 'ABORTED') throw error;
    return { status: 'unhealthy', detail: probeFailure(error, what, timeoutMs) };
  } finally {
    http.close();
  }
}

/** Where to probe a container: its published port when it has one, else its address on the network. */
export function probeAddress(
  info: Docker.ContainerInspectInfo,
  port: number,
  network: string,
): { host: string; port: number } | undefined {
  const binding = info.NetworkSettings?.Ports?.[`${port}/tcp`]?.[0];
  if (binding?.HostPort) {
    const host =
      binding.HostIp && binding.HostIp !== '0.0.0.0' && binding.HostIp !== '::'
        ? binding.HostIp
        : '127.0.0.1';
    return { host, port: Number(binding.HostPort) };
  }
  const address =
    info.NetworkSettings?.Networks?.[network]?.IPAddress ||
    Object.values(info.NetworkSettings?.Networks ?? {}).find((endpoint) => endpoint.IPAddress)?.IPAddress;
  return address ? { host: address, port } : undefined;
}

/**
 * What the container's state alone says: `exited` for one that stopped or keeps restarting, or
 * undefined when it runs and a probe must decide.
 */
export function stateReport(info: Docker.ContainerInspectInfo): HealthReport | undefined {
  const state = info.State;
  const exitDetail = () => {
    const error = state.Error ? ` (${state.Error})` : '';
    return `exit code ${state.ExitCode}${error}`;
  };
  if (state.Restarting) {
    return { status: 'exited', detail: `restarting after ${exitDetail()}, ${info.RestartCount} restarts` };
  }
  if (!state.Running) {
    if (state.Status === 'created') {
      return { status: 'exited', detail: `never started${state.Error ? `: ${state.Error}` : ''}` };
    }
    if (state.Paused) return { status: 'unhealthy', detail: 'paused' };
    const detail = `${state.Status}, ${exitDetail()}${state.OOMKilled ? ', out of memory' : ''}`;
    // A container that exits on its own is restarted by such a policy (`Restarting`); one that stays
    // exited was stopped from outside, and during a deploy that is mostly the daemon going down.
    const policy = info.HostConfig?.RestartPolicy?.Name;
    if ((policy === 'always' || policy === 'unless-stopped') && !state.OOMKilled) {
      return {
        status: 'exited',
        detail: `${detail}, not restarted by its restart policy (${policy}): it was stopped from outside, by the Docker daemon stopping or restarting or by a docker stop`,
      };
    }
    return { status: 'exited', detail };
  }
  return undefined;
}

/** The image's own `HEALTHCHECK` as the engine last ran it. */
export function dockerHealthReport(info: Docker.ContainerInspectInfo): HealthReport | undefined {
  const health = info.State.Health;
  if (!health?.Status || health.Status === 'none') return undefined;
  const last = health.Log?.at(-1);
  const output = last?.Output?.trim().split('\n').at(-1)?.slice(0, 200);
  const detail = last
    ? `HEALTHCHECK exit ${last.ExitCode}${output ? `: ${output}` : ''}${health.FailingStreak ? `, ${health.FailingStreak} failing` : ''}`
    : 'HEALTHCHECK has not run yet';
  const status =
    health.Status === 'healthy' ? 'healthy' : health.Status === 'unhealthy' ? 'unhealthy' : 'starting';
  return { status, detail };
}
