import { type EventBus, isCoreError, type Registry } from '@docker-watcher/core';
import type { ChannelStats } from '../notify/compose-notifications.ts';
import { notificationMetricLines } from '../notify/notify-metrics.ts';

type Labels = Readonly<Record<string, string>>;

const durationBuckets = [1, 5, 10, 30, 60, 120, 300, 600, 1800] as const;

const escapeLabel = (value: string) =>
  value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labelText = (labels: Labels) => {
  const entries = Object.entries(labels);
  return entries.length === 0 ? '' : `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
};

class Counter {
  readonly values = new Map<string, { labels: Labels; value: number }>();
  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    const entry = this.values.get(key) ?? { labels, value: 0 };
    entry.value += by;
    this.values.set(key, entry);
  }
}

export type WebhookOutcome =
  | 'accepted'
  | 'unauthorized'
  | 'bad_request'
  | 'too_large'
  | 'unsupported'
  | 'not_found'
  | 'error';

/** Prometheus metrics, derived from the engine's events and the registries' answers. */
export interface ServerMetrics {
  /** Counts each call of the registry by operation and outcome (`ok` or an error code). */
  instrument(name: string, registry: Registry): Registry;
  webhook(source: string, outcome: WebhookOutcome): void;
  /** The text exposition format, version 0.0.4. */
  render(): string;
  dispose(): void;
}

export interface MetricsSources {
  /** Per-channel counters of the notification dispatcher. */
  readonly notifications?: () => readonly ChannelStats[];
}

export function createMetrics(bus: EventBus, sources: MetricsSources = {}): ServerMetrics {
  const polls = new Counter();
  const registryRequests = new Counter();
  const webhooks = new Counter();
  const observations = new Counter();
  const deploys = new Counter();
  const adapterErrors = new Counter();
  const bucketCounts = durationBuckets.map(() => 0);
  let durationSum = 0;
  let durationCount = 0;
  /** Deploy id -> when it was queued (ms), while it has not finished. */
  const open = new Map<string, number>();
  /** Whether this replica leads (polls), and its name among the replicas; unknown before the engine starts. */
  let leadership: { leader: boolean; holder: string } | undefined;

  const finish = (deployId: string, outcome: string, at: string) => {
    deploys.inc({ outcome });
    const started = open.get(deployId);
    open.delete(deployId);
    if (started === undefined) return;
    const seconds = Math.max(0, (Date.parse(at) - started) / 1000);
    durationSum += seconds;
    durationCount += 1;
    durationBuckets.forEach((bound, i) => {
      if (seconds <= bound) bucketCounts[i] = (bucketCounts[i] ?? 0) + 1;
    });
  };

  const unsubscribe = bus.onAny((event) => {
    switch (event.type) {
      case 'deploy:queued':
        open.set(event.deployId, Date.parse(event.at));
        break;
      case 'deploy:succeeded':
        finish(event.deployId, 'succeeded', event.at);
        break;
      case 'deploy:failed':
        finish(event.deployId, 'failed', event.at);
        break;
      case 'deploy:rolled-back':
        finish(event.deployId, 'rolled_back', event.at);
        break;
      case 'deploy:state-changed':
        if (event.to === 'cancelled') finish(event.deployId, 'cancelled', event.at);
        break;
      case 'registry:observed':
        observations.inc({ registry: event.registryId, source: event.source });
        break;
      case 'adapter:error':
        adapterErrors.inc({ adapter: event.adapterId, operation: event.operation });
        break;
      case 'engine:leadership':
        leadership = { leader: event.leader, holder: event.holder };
        break;
      default:
        break;
    }
  });

  const counted = <T>(name: string, operation: string, call: () => Promise<T>): Promise<T> =>
    call().then(
      (value) => {
        registryRequests.inc({ registry: name, operation, status: 'ok' });
        return value;
      },
      (error: unknown) => {
        const status = isCoreError(error) ? error.code : 'INTERNAL';
        registryRequests.inc({ registry: name, operation, status });
        throw error;
      },
    );

  const write = (lines: string[], metric: string, help: string, type: string, counter: Counter) => {
    lines.push(`# HELP ${metric} ${help}`, `# TYPE ${metric} ${type}`);
    for (const { labels, value } of counter.values.values())
      lines.push(`${metric}${labelText(labels)} ${value}`);
  };

  return {
    instrument(name, registry) {
      const wrapped: Registry = {
        id: registry.id,
        capabilities: registry.capabilities,
        listTags: (params) => {
          polls.inc({ registry: name });
          return counted(name, 'listTags', () => registry.listTags(params));
        },
        resolveReference: (params) =>
          counted(name, 'resolveReference', () => registry.resolveReference(params)),
        dispose: () => registry.dispose(),
      };
      const { readImageConfig, parseWebhook } = registry;
      return {
        ...wrapped,
        ...(readImageConfig
          ? {
              readImageConfig: (params: Parameters<typeof readImageConfig>[0]) =>
                counted(name, 'readImageConfig', () => readImageConfig.call(registry, params)),
            }
          : {}),
        ...(parseWebhook ? { parseWebhook: parseWebhook.bind(registry) } : {}),
      };
    },
    webhook(source, outcome) {
      webhooks.inc({ source, outcome });
    },
    render() {
      const lines: string[] = [];
      write(
        lines,
        'docker_watcher_polls_total',
        'Repository listings (polls and webhook refreshes).',
        'counter',
        polls,
      );
      write(
        lines,
        'docker_watcher_registry_requests_total',
        'Registry calls by registry, operation and status (ok or an error code).',
        'counter',
        registryRequests,
      );
      write(
        lines,
        'docker_watcher_webhooks_total',
        'Incoming webhooks by source and outcome.',
        'counter',
        webhooks,
      );
      write(
        lines,
        'docker_watcher_observations_total',
        'Tags seen by registry and source.',
        'counter',
        observations,
      );
      write(lines, 'docker_watcher_deploys_total', 'Finished deploys by outcome.', 'counter', deploys);
      write(
        lines,
        'docker_watcher_adapter_errors_total',
        'Failed adapter operations.',
        'counter',
        adapterErrors,
      );
      const metric = 'docker_watcher_deploy_duration_seconds';
      lines.push(`# HELP ${metric} Time from queueing to the end of a deploy.`, `# TYPE ${metric} histogram`);
      for (const [i, bound] of durationBuckets.entries())
        lines.push(`${metric}_bucket{le="${bound}"} ${bucketCounts[i]}`);
      lines.push(`${metric}_bucket{le="+Inf"} ${durationCount}`);
      lines.push(`${metric}_sum ${durationSum}`, `${metric}_count ${durationCount}`);
      lines.push(
        '# HELP docker_watcher_deploy_queue_depth Deploys queued or running.',
        '# TYPE docker_watcher_deploy_queue_depth gauge',
        `docker_watcher_deploy_queue_depth ${open.size}`,
        '# HELP docker_watcher_leader 1 while this replica leads (polls the registries) among the replicas on its store.',
        '# TYPE docker_watcher_leader gauge',
      );
      if (leadership)
        lines.push(
          `docker_watcher_leader${labelText({ holder: leadership.holder })} ${leadership.leader ? 1 : 0}`,
        );
      if (sources.notifications) lines.push(...notificationMetricLines(sources.notifications()));
      return `${lines.join('\n')}\n`;
    },
    dispose: unsubscribe,
  };
}
