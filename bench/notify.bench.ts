// Notifications: 1,000 events in one burst to 5 channels (Slack, Discord, Teams, Telegram, ntfy),
// each on its loopback fake (@docker-watcher/testkit/notify), through core's dispatcher.
//
//   node --conditions=@docker-watcher/source bench/notify.bench.ts           prints a markdown report
//   node --conditions=@docker-watcher/source bench/notify.bench.ts --check   also exits 1 when a target is missed
//
// Three runs: batched (the server's default window of 3 s, digests of at most 50 events), unbatched
// (one message per event), and unbatched with rate-limit answers (Discord's `retry_after` and
// Telegram's `parameters.retry_after`, three each). Every run must deliver every event, drop and
// fail none, and leave the emitter free: the burst is dispatched in under `dispatchBudgetMs`.
//
// Node runs this file by type stripping: erasable TypeScript only (no enums, no parameter properties).
import { cpus } from 'node:os';
import {
  createNotificationDispatcher,
  type NotificationChannelStats,
  type NotificationEvent,
  type Notifier,
} from '@docker-watcher/core';
import { createDiscordNotifier } from '@docker-watcher/notifiers/discord';
import { createNtfyNotifier } from '@docker-watcher/notifiers/ntfy';
import { createSlackNotifier } from '@docker-watcher/notifiers/slack';
import { createTeamsNotifier } from '@docker-watcher/notifiers/teams';
import { createTelegramNotifier } from '@docker-watcher/notifiers/telegram';
import {
  type ChatServiceFake,
  startDiscordFake,
  startNtfyFake,
  startSlackFake,
  startTeamsFake,
  startTelegramFake,
} from '@docker-watcher/testkit/notify';

const check = process.argv.includes('--check');
const burst = 1000;
const channelCount = 5;
const maxBatch = 50;
const batchWindowMs = 3000;
/** The emitter's cost of the whole burst: dispatching must never wait for a channel. */
const dispatchBudgetMs = 100;
/** From the burst to the last delivery; batched: the window and 2 s (full digests go out before it ends). */
const batchedDrainBudgetMs = batchWindowMs + 2_000;
const unbatchedDrainBudgetMs = 60_000;
/** The rate-limited run waits what the services asked: 3 × 0.75 s (Discord) and 3 × 1 s (Telegram). */
const rateLimitedDrainBudgetMs = 60_000;

interface Channel {
  readonly name: string;
  readonly fake: ChatServiceFake<string>;
  readonly notifier: Notifier;
}

async function startChannels(): Promise<Channel[]> {
  const slack = await startSlackFake();
  const discord = await startDiscordFake();
  const teams = await startTeamsFake();
  const telegram = await startTelegramFake();
  const ntfy = await startNtfyFake();
  const channels: Channel[] = [
    { name: 'slack', fake: slack, notifier: createSlackNotifier({ url: slack.webhookUrl }) },
    {
      name: 'discord',
      fake: discord,
      notifier: createDiscordNotifier({
        webhookId: discord.webhookId,
        token: discord.token,
        apiUrl: discord.apiUrl,
      }),
    },
    { name: 'teams', fake: teams, notifier: createTeamsNotifier({ url: teams.workflowUrl }) },
    {
      name: 'telegram',
      fake: telegram,
      notifier: createTelegramNotifier({
        token: telegram.token,
        chats: ['@releases'],
        apiUrl: telegram.apiUrl,
      }),
    },
    {
      name: 'ntfy',
      fake: ntfy,
      notifier: createNtfyNotifier({ url: ntfy.origin, topic: ntfy.topic, token: ntfy.token }),
    },
  ];
  if (channels.length !== channelCount) throw new Error('the benchmark needs 5 channels');
  return channels;
}

function events(): NotificationEvent[] {
  const at = new Date().toISOString();
  return Array.from({ length: burst }, (_, index) => ({
    type: 'deploy:failed' as const,
    at,
    deployId: `bench-${index}`,
    project: `project-${index % 40}`,
    stage: ['dev', 'rel', 'prod'][index % 3] ?? 'dev',
    release: { tag: `v1.0.${index}`, digest: `sha256:${index.toString(16).padStart(64, '0')}` },
    previous: { tag: 'v0.9.0', digest: `sha256:${'f'.repeat(64)}` },
    durationMs: 1_000 + index,
    error: {
      code: 'TIMEOUT',
      message: 'health gate: GET /health answered 503 until the deadline',
      retryable: true,
      details: {},
    },
  }));
}

interface RunResult {
  readonly name: string;
  readonly dispatchMs: number;
  readonly drainMs: number;
  readonly stats: NotificationChannelStats[];
  readonly received: number[];
}

async function waitUntilDrained(stats: () => NotificationChannelStats[], deadline: number): Promise<void> {
  // Polls the counters rather than flush(): flush would close the batching window early.
  while (performance.now() < deadline) {
    if (
      stats().every(
        (channel) => channel.waiting === 0 && channel.delivered + channel.failed + channel.dropped === burst,
      )
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function run(params: {
  readonly name: string;
  readonly batchWindowMs: number;
  readonly rateLimits: boolean;
}): Promise<RunResult> {
  const channels = await startChannels();
  try {
    if (params.rateLimits) {
      // The first message of each is answered 429 three times: the channel waits as long as asked, each time.
      const byName = new Map(channels.map((channel) => [channel.name, channel.fake]));
      byName.get('discord')?.script('rate_limited', 'rate_limited', 'rate_limited');
      byName.get('telegram')?.script('rate_limited', 'rate_limited', 'rate_limited');
    }
    const dispatcher = createNotificationDispatcher({
      notifiers: channels.map((channel) => channel.notifier),
      batchWindowMs: params.batchWindowMs,
      maxBatch,
      maxQueue: burst,
      retries: 10,
      timeoutMs: 10_000,
      backoffMs: 200,
      maxRetryDelayMs: 60_000,
    });
    const burstEvents = events();
    const started = performance.now();
    for (const event of burstEvents) dispatcher.dispatch(event);
    const dispatched = performance.now();
    const budget = params.rateLimits ? rateLimitedDrainBudgetMs : unbatchedDrainBudgetMs;
    await waitUntilDrained(() => dispatcher.stats(), started + params.batchWindowMs + budget);
    const drained = performance.now();
    const stats = dispatcher.stats();
    await dispatcher.dispose();
    return {
      name: params.name,
      dispatchMs: dispatched - started,
      drainMs: drained - started,
      stats,
      received: channels.map((channel) => channel.fake.messages.length),
    };
  } finally {
    for (const channel of channels) {
      await channel.notifier.dispose();
      await channel.fake.close();
    }
  }
}

const results = [
  await run({
    name: `batched (window ${batchWindowMs / 1000} s, digests of ≤ ${maxBatch})`,
    batchWindowMs,
    rateLimits: false,
  }),
  await run({ name: 'unbatched (one message per event)', batchWindowMs: 0, rateLimits: false }),
  await run({
    name: 'unbatched, 3 rate-limit answers each from Discord and Telegram',
    batchWindowMs: 0,
    rateLimits: true,
  }),
];

const misses: string[] = [];
const budgets = [batchedDrainBudgetMs, unbatchedDrainBudgetMs, rateLimitedDrainBudgetMs];
const expectedMessages = [Math.ceil(burst / maxBatch), burst, burst];
results.forEach((result, index) => {
  const sum = (key: keyof Omit<NotificationChannelStats, 'notifier'>) =>
    result.stats.reduce((total, channel) => total + channel[key], 0);
  if (result.dispatchMs > dispatchBudgetMs)
    misses.push(
      `${result.name}: dispatching the burst took ${result.dispatchMs.toFixed(1)} ms (budget ${dispatchBudgetMs})`,
    );
  if (result.drainMs > (budgets[index] ?? 0))
    misses.push(`${result.name}: drain ${result.drainMs.toFixed(0)} ms (budget ${budgets[index]})`);
  if (sum('delivered') !== burst * channelCount || sum('dropped') + sum('failed') > 0)
    misses.push(
      `${result.name}: delivered ${sum('delivered')}, dropped ${sum('dropped')}, failed ${sum('failed')}`,
    );
  if (result.received.some((count) => count !== expectedMessages[index]))
    misses.push(
      `${result.name}: messages per channel ${result.received.join(', ')}, expected ${expectedMessages[index]} each`,
    );
  if (index === 2 && sum('rateLimited') !== 6)
    misses.push(`${result.name}: ${sum('rateLimited')} rate-limit answers counted, expected 6`);
});

const cpu = cpus()[0]?.model ?? 'unknown CPU';
const lines = [
  '### Notifications: 1,000 events in a burst to 5 channels',
  '',
  `node ${process.version}, ${cpus().length} cores (${cpu}), ${new Date().toISOString()}`,
  'Channels: Slack, Discord, Teams, Telegram, ntfy, each on its loopback fake; core dispatcher, queue bound 1,000 per channel',
  '',
  '| run | burst dispatched in ms | drain ms | messages sent (all channels) | per channel | events delivered | dropped | failed | retries | rate-limit answers |',
  '| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |',
  ...results.map((result) => {
    const sum = (key: keyof Omit<NotificationChannelStats, 'notifier'>) =>
      result.stats.reduce((total, channel) => total + channel[key], 0);
    return `| ${result.name} | ${result.dispatchMs.toFixed(1)} | ${result.drainMs.toFixed(0)} | ${sum('sent')} | ${result.received.join(' / ')} | ${sum('delivered')} | ${sum('dropped')} | ${sum('failed')} | ${sum('retries')} | ${sum('rateLimited')} |`;
  }),
  '',
  `Drain: from the burst until every event was delivered (a digest goes out when it holds ${maxBatch} events or when the window ends). Targets: burst dispatched under ${dispatchBudgetMs} ms; drain under ${batchedDrainBudgetMs} ms batched, ${unbatchedDrainBudgetMs} ms unbatched, ${rateLimitedDrainBudgetMs} ms with rate limits; nothing dropped or failed.`,
];
process.stdout.write(`${lines.join('\n')}\n`);
if (misses.length > 0) {
  process.stdout.write(`\nMissed:\n${misses.map((miss) => `- ${miss}`).join('\n')}\n`);
  if (check) process.exitCode = 1;
}
