import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerHealthReport, probeAddress, probeHttp, stateReport } from './_health.ts';

type Info = Docker.ContainerInspectInfo;
const info = (state: Partial<Info['State']>, extra: Partial<Info> = {}): Info =>
  ({
    State: {
      Status: 'running',
      Running: true,
      Restarting: false,
      Paused: false,
      ExitCode: 0,
      Error: '',
      ...state,
    },
    RestartCount: 0,
    NetworkSettings: { Ports: {}, Networks: {} },
    ...extra,
  }) as unknown as Info;

describe('container state', () => {
  it('running: the probe decides', () => {
    expect(stateReport(info({}))).toBeUndefined();
  });

  it('exited, restarting or never started: exited with the exit code', () => {
    expect(stateReport(info({ Running: false, Status: 'exited', ExitCode: 3 }))).toEqual({
      status: 'exited',
      detail: 'exited, exit code 3',
    });
    expect(
      stateReport(info({ Running: false, Status: 'exited', ExitCode: 137, OOMKilled: true }))?.detail,
    ).toBe('exited, exit code 137, out of memory');
    expect(stateReport(info({ Restarting: true, ExitCode: 1 }, { RestartCount: 4 }))).toEqual({
      status: 'exited',
      detail: 'restarting after exit code 1, 4 restarts',
    });
    expect(stateReport(info({ Running: false, Status: 'created', Error: 'port in use' }))).toEqual({
      status: 'exited',
      detail: 'never started: port in use',
    });
    expect(stateReport(info({ Running: false, Paused: true, Status: 'paused' }))?.status).toBe('unhealthy');
  });

  it('exited despite a restart policy that restarts it: stopped from outside, as by a daemon restart', () => {
    const stopped = info(
      { Running: false, Status: 'exited', ExitCode: 0 },
      { HostConfig: { RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 } } },
    );
    expect(stateReport(stopped)?.detail).toBe(
      'exited, exit code 0, not restarted by its restart policy (unless-stopped): it was stopped from outside, by the Docker daemon stopping or restarting or by a docker stop',
    );
    const onFailure = info(
      { Running: false, Status: 'exited', ExitCode: 0 },
      { HostConfig: { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 0 } } },
    );
    expect(stateReport(onFailure)?.detail).toBe('exited, exit code 0');
  });

  it("reads the image's HEALTHCHECK", () => {
    const health = (Status: string, Log: Array<{ ExitCode: number; Output: string }> = []) =>
      info({ Health: { Status, FailingStreak: Status === 'unhealthy' ? 3 : 0, Log } as never });
    expect(dockerHealthReport(info({}))).toBeUndefined();
    expect(dockerHealthReport(health('starting'))).toEqual({
      status: 'starting',
      detail: 'HEALTHCHECK has not run yet',
    });
    expect(dockerHealthReport(health('healthy', [{ ExitCode: 0, Output: '' }]))).toEqual({
      status: 'healthy',
      detail: 'HEALTHCHECK exit 0',
    });
    expect(
      dockerHealthReport(
        health('unhealthy', [{ ExitCode: 1, Output: 'wget: server returned error: 404\n' }]),
      ),
    ).toEqual({
      status: 'unhealthy',
      detail: 'HEALTHCHECK exit 1: wget: server returned error: 404, 3 failing',
    });
  });

  it('is probed on its published port, else on its network address', () => {
    const published = info({}, {
      NetworkSettings: {
        Ports: { '8080/tcp': [{ HostIp: '0.0.0.0', HostPort: '32768' }] },
        Networks: { dw: { IPAddress: '172.18.0.5' } },
      },
    } as never);
    expect(probeAddress(published, 8080, 'dw')).toEqual({ host: '127.0.0.1', port: 32768 });
    const internal = info({}, {
      NetworkSettings: { Ports: {}, Networks: { dw: { IPAddress: '172.18.0.5' } } },
    } as never);
    expect(probeAddress(internal, 8080, 'dw')).toEqual({ host: '172.18.0.5', port: 8080 });
    expect(probeAddress(internal, 8080, 'other')).toEqual({ host: '172.18.0.5', port: 8080 });
    expect(probeAddress(info({}), 8080, 'dw')).toBeUndefined();
  });
});

describe('HTTP probe', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/slow') return void setTimeout(() => res.end('late'), 2_000);
      if (req.url === '/elsewhere') return void res.writeHead(307, { location: '/broken' }).end();
      // A head, then a body that never ends: a probe that read it would get no answer.
      if (req.url === '/endless') return void res.writeHead(200).write(Buffer.alloc(64 * 1024));
      res.statusCode = req.url === '/health' ? 200 : req.url === '/moved' ? 302 : 503;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  const probe = (path: string, timeoutMs = 1_000) => probeHttp({ host: '127.0.0.1', port, path, timeoutMs });

  it('2xx and 3xx are healthy, others unhealthy, with the status in the detail', async () => {
    expect(await probe('/health')).toEqual({
      status: 'healthy',
      detail: 'GET /health -> 200',
      httpStatus: 200,
    });
    expect(await probe('/moved')).toEqual({
      status: 'healthy',
      detail: 'GET /moved -> 302',
      httpStatus: 302,
    });
    expect(await probe('/broken')).toEqual({
      status: 'unhealthy',
      detail: 'GET /broken -> 503',
      httpStatus: 503,
    });
  });

  it('follows no redirect and reads no body', async () => {
    expect(await probe('/elsewhere')).toEqual({
      status: 'healthy',
      detail: 'GET /elsewhere -> 307',
      httpStatus: 307,
    });
    expect(await probe('/endless', 10_000)).toEqual({
      status: 'healthy',
      detail: 'GET /endless -> 200',
      httpStatus: 200,
    });
  });

  it('a timeout or a refused connection is unhealthy', async () => {
    expect(await probe('/slow', 100)).toEqual({
      status: 'unhealthy',
      detail: 'GET /slow: no answer within 100 ms',
    });
    expect(await probeHttp({ host: '127.0.0.1', port: 9, path: '/health', timeoutMs: 500 })).toEqual({
      status: 'unhealthy',
      detail: 'GET /health: connection refused',
    });
  });
});
