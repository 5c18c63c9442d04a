import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NginxInstance, startNginx } from '../src/index.ts';
import { processRuns, readPidfile } from '../src/pidfile.ts';

function getThrough(port: number, host: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host }, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve(`${res.statusCode} ${body}`));
    });
    req.on('error', (error) => resolve(`failed: ${error.message}`));
    req.end();
  });
}

const serverBlock = (port: number, host: string, upstreamPort: number) => `server {
  listen 127.0.0.1:${port};
  server_name ${host};
  location / { proxy_pass http://127.0.0.1:${upstreamPort}; }
}
`;

describe('startNginx', () => {
  let nginx: NginxInstance;
  let upstream: Server;
  let upstreamPort: number;
  beforeAll(async () => {
    nginx = await startNginx();
    upstream = createServer((_req, res) => res.end('from upstream'));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamPort = (upstream.address() as { port: number }).port;
  }, 300_000);
  afterAll(async () => {
    await nginx?.stop();
    await new Promise((resolve) => upstream?.close(resolve));
  });

  it('answers 404 for unknown names, and serves a host config after test and reload', async () => {
    expect(await getThrough(nginx.httpPort, 'unknown.test')).toMatch(/^404 /);
    writeFileSync(join(nginx.hostsDir, '1.conf'), serverBlock(nginx.httpPort, 'one.test', upstreamPort));
    expect(await nginx.test()).toEqual({ ok: true, output: '' });
    await nginx.reload();
    await expect
      .poll(() => getThrough(nginx.httpPort, 'one.test'), { timeout: 30_000, interval: 100 })
      .toBe('200 from upstream');
  });

  it('says what nginx -t finds wrong, refuses to reload it, and keeps serving the running config', async () => {
    writeFileSync(join(nginx.hostsDir, '2.conf'), 'server { no_such_directive on; }\n');
    const check = await nginx.test();
    expect(check.ok).toBe(false);
    expect(check.output).toMatch(/unknown directive "no_such_directive".*2\.conf/);
    await expect(nginx.reload()).rejects.toThrow(/nginx -s reload failed: .*no_such_directive/);
    await expect
      .poll(() => getThrough(nginx.httpPort, 'one.test'), { timeout: 30_000, interval: 100 })
      .toBe('200 from upstream');
  });

  it('stop() ends the master and its workers and removes the folder', async () => {
    const own = await startNginx();
    const master = readPidfile(join(own.dir, 'nginx.pid'));
    expect(master).toBeDefined();
    await own.stop();
    expect(processRuns(master!)).toBe(false);
    expect(existsSync(own.dir)).toBe(false);
    expect(await getThrough(own.httpPort, 'x.test')).toMatch(/^failed: /);
  });

  it('stops the nginx of a test process that was killed before its stop()', async () => {
    const module = fileURLToPath(new URL('../src/nginx.ts', import.meta.url));
    const script = `import { startNginx } from ${JSON.stringify(module)};
const nginx = await startNginx();
process.stdout.write(nginx.dir + '\\n');
setInterval(() => {}, 60_000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const dir = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk) => {
        out += chunk;
        if (out.includes('\n')) resolve(out.trim());
      });
      child.once('exit', (code) => reject(new Error(`the child exited with ${code} before starting nginx`)));
    });
    const master = readPidfile(join(dir, 'nginx.pid'));
    expect(master).toBeDefined();
    child.kill('SIGKILL');
    await expect.poll(() => child.exitCode !== null || child.signalCode !== null).toBe(true);
    expect(processRuns(master!)).toBe(true);

    const next = await startNginx();
    try {
      await expect.poll(() => processRuns(master!), { timeout: 30_000 }).toBe(false);
      expect(existsSync(dir)).toBe(false);
    } finally {
      await next.stop();
    }
  }, 120_000);
});
