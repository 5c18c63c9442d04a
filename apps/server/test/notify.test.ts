import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createMemoryDeployTarget,
  createMemoryLogger,
  createMemoryRegistry,
  createMemoryReverseProxy,
  createMemoryStateStore,
  createRedactingLogger,
  type DockerWatcherEvent,
  isCoreError,
} from '@docker-watcher/core';
import {
  type NtfyFake,
  type SlackFake,
  startNtfyFake,
  startSlackFake,
  startSmtpServer,
} from '@docker-watcher/testkit/notify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compose } from '../src/compose.ts';
import { loadConfigText } from '../src/config/load.ts';
import { createApp } from '../src/http/app.ts';
import { sendTestNotifications } from '../src/notify/notify-test.ts';
import { auth, configText, digest, env, tokens } from './support.ts';

let slack: SlackFake;
let ntfy: NtfyFake;
let dir: string;

beforeEach(async () => {
  slack = await startSlackFake();
  ntfy = await startNtfyFake();
  dir = mkdtempSync(join(tmpdir(), 'dw-notify-'));
});
afterEach(async () => {
  await slack.close();
  await ntfy.close();
  rmSync(dir, { recursive: true, force: true });
});

const slackSecret = 'dwSlackSecret0123456789';
const notifyEnv = () => ({
  ...env,
  SLACK_URL: `slack://hook:T0DWTEST-B0DWTEST-${slackSecret}@webhook`,
  NTFY_URL: `ntfy://${ntfy.username}:${ntfy.password}@${new URL(ntfy.origin).host}/${ntfy.topic}?scheme=http`,
});

/** The test config with a public URL and a notify section. */
const withNotify = (notify: string, extra = '') =>
  configText.replace('  server:\n', `  server:\n    public_url: https://deploy.example.test/dw\n${extra}`) +
  notify;

const twoChannels = `
notify:
  batch_window_seconds: 0
  channels:
    - name: team-chat
      url_env: SLACK_URL
      options: { url: "SLACK_FAKE" }
      routes:
        - {}
        - { events: [deploy:succeeded], stages: [dev] }
      template: { title: "{{ stage | upper }} {{ tag }}" }
    - url_env: NTFY_URL
      events: [deploy:failed]
`;

describe('notify config', () => {
  it('reads a list of service URLs, and the long form with routes, templates and settings', async () => {
    const list = await loadConfigText(
      withNotify(
        'notify:\n  - discord://dwToken-0123456789@123456\n  - discord://dwToken-0123456789@234567\n  - ntfy://ntfy.sh/dw\n',
      ),
      env,
    );
    expect(list.notify.channels.map((channel) => [channel.name, channel.channel, channel.routes])).toEqual([
      ['discord', 'discord', [{}]],
      ['discord-2', 'discord', [{}]],
      ['ntfy', 'ntfy', [{}]],
    ]);
    expect(list.notify.channels[0]?.options).toMatchObject({ publicUrl: 'https://deploy.example.test/dw' });
    expect(list.notify.dispatcher).toMatchObject({ batchWindowMs: 3000, maxQueue: 1000, retries: 10 });

    const long = await loadConfigText(
      withNotify(twoChannels).replace('SLACK_FAKE', slack.webhookUrl),
      notifyEnv(),
    );
    expect(long.notify.channels.map((channel) => channel.name)).toEqual(['team-chat', 'ntfy']);
    expect(long.notify.channels[0]?.routes).toEqual([{}, { events: ['deploy:succeeded'], stages: ['dev'] }]);
    expect(long.notify.channels[0]?.options).toMatchObject({
      titleTemplate: '{{ stage | upper }} {{ tag }}',
    });
    expect(long.notify.dispatcher.batchWindowMs).toBe(0);
    // Credentials found in the URLs are masked in the server's logs.
    expect(long.secrets).toEqual(expect.arrayContaining([slackSecret, ntfy.password]));
  });

  it("loads the README's notify examples, and a URL of each service the table names", async () => {
    const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```yaml\n(notify:\n[\s\S]*?)```/g)].map((match) => match[1] ?? '');
    expect(blocks).toHaveLength(2);
    const urls = {
      SLACK_URL: 'slack://hook:T000-B000-XXXX@webhook',
      TELEGRAM_URL: 'telegram://123456:AAbbCCddEEffGGhhIIjjKK@telegram?chats=@ops_team',
      MAIL_URL: 'smtp://user:pass@smtp.example.com:587/?from=dw@example.com&to=ops@example.com',
    };
    const channels: string[][] = [];
    for (const block of blocks)
      channels.push(
        (await loadConfigText(withNotify(block), { ...env, ...urls })).notify.channels.map(
          (channel) => channel.name,
        ),
      );
    expect(channels).toEqual([
      ['discord', 'ntfy'],
      ['team-chat', 'telegram', 'email'],
    ]);
    // The table's example URLs, with their placeholders filled in.
    const table = [...readme.matchAll(/^\| [^|]+ \| `([a-z+]+:\/\/[^`]+)`/gm)].map((match) =>
      (match[1] ?? '')
        .replace(
          '<percent-encoded workflow webhook URL>',
          encodeURIComponent('https://example.com/workflows/1'),
        )
        .replace('[user:password@]', '')
        .replace('<bot token>', '123456:AAbbCCddEEffGGhhIIjjKK')
        .replace(/<[^>]+>/g, '0123456789'),
    );
    expect(table).toHaveLength(9);
    const list = `notify:\n${table.map((url) => `  - ${JSON.stringify(url)}\n`).join('')}`;
    expect(
      (await loadConfigText(withNotify(list), env)).notify.channels.map((channel) => channel.channel),
    ).toEqual(['slack', 'discord', 'teams', 'telegram', 'ntfy', 'gotify', 'matrix', 'email', 'generic']);
  });

  it("keeps the plan's notification_url as the signed webhook, with every deploy event", async () => {
    const config = await loadConfigText(
      configText.replace(
        '  poll_interval_seconds: 0\n',
        '  poll_interval_seconds: 0\n  notification_url: https://hooks.example.test/dw\n  notification_secret_env: HOOK_SECRET\n',
      ),
      env,
    );
    expect(config.notify.channels).toEqual([
      expect.objectContaining({
        name: 'webhook',
        channel: 'webhook',
        options: { url: 'https://hooks.example.test/dw', secret: env.HOOK_SECRET },
        routes: [
          {
            events: expect.arrayContaining([
              'deploy:succeeded',
              'deploy:failed',
              'deploy:awaiting-confirmation',
            ]),
          },
        ],
      }),
    ]);
  });

  it('reports every problem with its path, never quoting a URL', async () => {
    const notify = `
notify:
  - discord://s3cretToken@123456?colour=red
  - pushover://shoutrrr:apiToken@userKey
  - { url: "ntfy://ntfy.sh/dw", url_env: NTFY_URL }
  - { url_env: MISSING_NOTIFY_URL }
  - { url: "ntfy://ntfy.sh/dw", template: { title: "{{ secret_token }}" } }
  - { url: "ntfy://ntfy.sh/dw", events: [deploy:failed], routes: [{}] }
  - { name: dup, url: "ntfy://ntfy.sh/a" }
  - { name: dup, url: "ntfy://ntfy.sh/b" }
  - { name: nowhere, events: [deploy:failed] }
`;
    let problems: string[] = [];
    try {
      await loadConfigText(withNotify(notify), env);
    } catch (error) {
      if (!isCoreError(error, 'CONFIG_INVALID')) throw error;
      problems = (error.details.problems as Array<{ path: string; message: string }>).map(
        (p) => `${p.path}: ${p.message}`,
      );
    }
    // The loader reads url_env and url_file (and says what is wrong with them) before the channels are read.
    expect(problems).toEqual([
      'notify.2.url_env: set only one of url, url_env',
      'notify.3.url_env: environment variable MISSING_NOTIFY_URL is not set',
      'notify.0.url: discord:// URL discord:// URLs take no parameter "colour"; known: username, avatar, avatarurl, title, thread_id, color, colorerror, colorwarn, colorinfo, colordebug, splitlines, json',
      expect.stringMatching(
        /^notify\.1\.url: pushover:\/\/ is a Shoutrrr service Docker Watcher has no channel for/,
      ),
      expect.stringMatching(/^notify\.4\.titleTemplate: unknown variable "secret_token"/),
      'notify.5.routes: set routes, or events/projects/stages, not both',
      'notify.8: needs one of url, url_env and url_file',
      'notify.7.name: another channel is named dup',
    ]);
    expect(problems.join('\n')).not.toContain('s3cretToken');
  });
});

describe('notify in the server', () => {
  /** A server on memory adapters whose registry already holds dev-1. */
  const start = async (text: string) => {
    const config = await loadConfigText(text.replace('SLACK_FAKE', slack.webhookUrl), notifyEnv());
    const logs = createMemoryLogger();
    const registry = createMemoryRegistry();
    registry.push('team/web-app', 'dev-1', digest(1));
    const composed = compose(config, {
      logger: createRedactingLogger(logs, { secrets: config.secrets }),
      store: createMemoryStateStore(),
      target: createMemoryDeployTarget(),
      proxy: createMemoryReverseProxy(),
      registries: { local: registry },
      listenPort: 0,
    });
    const events: DockerWatcherEvent[] = [];
    composed.engine.bus.onAny((event) => events.push(event));
    const app = createApp(composed, { heartbeatMs: 50 });
    await composed.engine.start();
    return { composed, app, registry, logs, events };
  };

  it('tells each channel what its routes choose, linking to the deploy on the dashboard, with metrics per channel', async () => {
    const server = await start(withNotify(twoChannels));
    await server.composed.engine.pollOnce();
    await server.composed.engine.idle();
    await server.composed.notifications.dispatcher.flush();
    expect(slack.messages).toHaveLength(1);
    const payload = slack.messages[0]?.json as {
      attachments: Array<{ blocks: Array<{ text?: { text: string }; elements?: Array<{ url: string }> }> }>;
    };
    const blocks = payload.attachments[0]?.blocks ?? [];
    expect(blocks[0]?.text?.text.split('\n')[0]).toBe('*DEV dev-1*');
    expect(blocks.at(-1)?.elements?.[0]?.url).toMatch(
      /^https:\/\/deploy\.example\.test\/dw\/deploys\/[\w-]+$/,
    );
    // ntfy wants failures only.
    expect(ntfy.messages).toHaveLength(0);

    const metrics = await (await server.app.request('/metrics', { headers: auth(tokens.read) })).text();
    expect(metrics).toContain('docker_watcher_notifications_sent_total{channel="team-chat",type="slack"} 1');
    expect(metrics).toContain(
      'docker_watcher_notification_events_total{channel="ntfy",type="ntfy",outcome="delivered"} 0',
    );
    expect(metrics).toContain('docker_watcher_notification_queue_depth{channel="team-chat",type="slack"} 0');
    await server.composed.dispose();
  });

  it('never lets a channel secret reach logs, events, metrics or the API, also when the channel fails', async () => {
    slack.breakWith('invalid_token');
    ntfy.breakWith('unauthorized');
    const server = await start(
      withNotify(twoChannels.replace('events: [deploy:failed]', 'events: [deploy:succeeded]')),
    );
    await server.composed.engine.pollOnce();
    await server.composed.engine.idle();
    await server.composed.notifications.dispatcher.flush();
    expect(
      server.events
        .filter((event) => event.type === 'adapter:error')
        .map((event) => (event.type === 'adapter:error' ? event.adapterId : '')),
    ).toEqual(['notifier:slack/team-chat', 'notifier:ntfy/ntfy']);
    const responses = await Promise.all(
      ['/metrics', '/api/projects', '/api/deploys', '/readyz'].map(async (path) =>
        (await server.app.request(path, { headers: auth(tokens.admin) })).text(),
      ),
    );
    await server.composed.dispose();
    const seen = JSON.stringify({ logs: server.logs.entries, events: server.events, responses });
    expect(
      server.logs.entries.some((entry) => entry.level === 'warn' && /Gave up delivering/.test(entry.message)),
    ).toBe(true);
    for (const secret of [slackSecret, ntfy.password, notifyEnv().SLACK_URL, notifyEnv().NTFY_URL])
      expect(seen).not.toContain(secret);
  });

  it('a channel that is down never holds a deploy, and holds a shutdown for its grace only', async () => {
    slack.breakWith('hang');
    const server = await start(withNotify(twoChannels, '    shutdown_timeout_ms: 300\n'));
    const started = performance.now();
    await server.composed.engine.pollOnce();
    await server.composed.engine.idle();
    expect(server.events.map((event) => event.type)).toContain('deploy:succeeded');
    await server.composed.dispose();
    expect(performance.now() - started).toBeLessThan(3000);
    expect(server.logs.entries.map((entry) => entry.message)).toContain(
      'notifications still undelivered after 300 ms are dropped',
    );
  });
});

describe('docker-watcher notify test', () => {
  const root = join(import.meta.dirname, '../../..');
  // Not spawnSync: the fakes answer from this process, which must keep running meanwhile.
  const run = (args: string[]) => {
    const file = join(dir, 'dw.yml');
    writeFileSync(file, withNotify(twoChannels).replace('SLACK_FAKE', slack.webhookUrl));
    const cli = join(root, 'apps/server/src/cli.ts');
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--conditions=@docker-watcher/source', cli, 'notify', 'test', ...args, '--config', file],
        { cwd: root, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...notifyEnv() } },
        (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      );
    });
  };

  it('sends a test message to the named channel and says it went through', async () => {
    const { code, stdout } = await run(['team-chat']);
    expect({ code, stdout }).toEqual({ code: 0, stdout: 'team-chat (slack): test message delivered\n' });
    expect(slack.messages).toHaveLength(1);
    expect(ntfy.messages).toHaveLength(0);
  });

  it('says what a channel answered, never its secret, and names the channels there are', async () => {
    ntfy.breakWith('forbidden');
    const failed = await run(['--json']);
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout)).toEqual({
      results: [
        { channel: 'team-chat', type: 'slack', delivered: true },
        {
          channel: 'ntfy',
          type: 'ntfy',
          delivered: false,
          error: expect.objectContaining({ code: 'FORBIDDEN', retryable: false }),
        },
      ],
    });
    expect(failed.stdout).not.toContain(ntfy.password);
    const unknown = await run(['nope']);
    expect(unknown).toMatchObject({
      code: 1,
      stderr: 'NOT_FOUND: no channel named nope; channels: team-chat, ntfy\n',
    });
  });
});

describe('email through the server', () => {
  it('sends the test message of an smtp:// channel through a real SMTP server, with STARTTLS and auth', async () => {
    const auth = { username: 'watcher', password: 'dwMailPassword-0123' };
    const smtp = await startSmtpServer({ auth });
    try {
      const mailUrl = `smtp://${auth.username}:${auth.password}@127.0.0.1:${smtp.port}/?from=watcher@localhost&to=ops@localhost&encryption=ExplicitTLS&requirestarttls=yes&skiptlsverify=yes&auth=Plain`;
      const config = await loadConfigText(withNotify('notify:\n  - { name: mail, url_env: MAIL_URL }\n'), {
        ...env,
        MAIL_URL: mailUrl,
      });
      expect(config.secrets).toContain(auth.password);
      const results = await sendTestNotifications({ config, channel: 'mail' });
      expect(results).toEqual([{ channel: 'mail', type: 'email', delivered: true }]);
      const [message] = await smtp.waitForMessages('ops', 1);
      expect(message).toMatch(/^Subject: .*notify-test/m);
      expect(message).toContain('https://deploy.example.test/dw/deploys/notify-test');
      expect(JSON.stringify(results)).not.toContain(auth.password);
    } finally {
      await smtp.stop();
    }
  });
});
