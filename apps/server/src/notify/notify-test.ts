import {
  CoreError,
  type ErrorCode,
  instantiate,
  isCoreError,
  type Logger,
  type NotificationEvent,
  silentLogger,
  toCoreError,
} from '@docker-watcher/core';
import type { ResolvedConfig } from '../config/load.ts';

export interface NotifyTestResult {
  readonly channel: string;
  readonly type: string;
  readonly delivered: boolean;
  readonly error?: { readonly code: ErrorCode; readonly message: string; readonly retryable: boolean };
}

/** The event a test message tells of: a successful deploy of a project named for the test. */
export function testEvent(channel: string): NotificationEvent {
  return {
    type: 'deploy:succeeded',
    at: new Date().toISOString(),
    deployId: 'notify-test',
    project: 'notify-test',
    stage: channel,
    release: { tag: 'test-message', digest: `sha256:${'0'.repeat(64)}` },
    durationMs: 0,
  };
}

/**
 * `docker-watcher notify test [channel]`: one test message to the named channel (or to each),
 * straight through the channel with no retries, so its answer shows at once. Unknown names are a
 * `NOT_FOUND` error naming the channels there are.
 */
export async function sendTestNotifications(params: {
  readonly config: ResolvedConfig;
  readonly channel?: string | undefined;
  readonly logger?: Logger;
}): Promise<NotifyTestResult[]> {
  const { channels } = params.config.notify;
  const chosen =
    params.channel === undefined ? channels : channels.filter((spec) => spec.name === params.channel);
  if (chosen.length === 0) {
    const names = channels.map((spec) => spec.name);
    const known =
      names.length > 0 ? `; channels: ${names.join(', ')}` : ': the config has no notify channels';
    const message =
      params.channel === undefined ? `nothing to test${known}` : `no channel named ${params.channel}${known}`;
    throw new CoreError('NOT_FOUND', message);
  }
  const results: NotifyTestResult[] = [];
  for (const spec of chosen) {
    const notifier = instantiate(spec.definition, spec.options, {
      logger: (params.logger ?? silentLogger).child({ channel: spec.name }),
      instance: spec.name,
      path: spec.path,
    });
    try {
      await notifier.notify({ event: testEvent(spec.name) });
      results.push({ channel: spec.name, type: spec.channel, delivered: true });
    } catch (thrown) {
      const error = toCoreError(thrown);
      results.push({
        channel: spec.name,
        type: spec.channel,
        delivered: false,
        error: {
          code: error.code,
          message: error.message,
          retryable: isCoreError(thrown) ? error.retryable : false,
        },
      });
    } finally {
      await notifier.dispose();
    }
  }
  return results;
}
