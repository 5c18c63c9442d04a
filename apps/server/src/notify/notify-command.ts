import { createRedactingLogger, silentLogger } from '@docker-watcher/core';
import { loadConfigFile } from '../config/load.ts';
import { sendTestNotifications } from './notify-test.ts';

export const notifyUsage =
  '  notify test [channel]         send a test message to a notify channel (or to each), and say what it answered';

/** `docker-watcher notify test [channel]`; exit code 0 when every message went through. */
export async function notifyCommand(
  args: readonly string[],
  options: {
    readonly configFile: string;
    readonly json: boolean;
    readonly out: (text: string) => void;
    readonly err: (text: string) => void;
  },
): Promise<number> {
  const [sub, channel, ...rest] = args;
  if (sub !== 'test' || rest.length > 0) {
    options.err(`Usage: docker-watcher notify test [channel]\n${notifyUsage}`);
    return 2;
  }
  const config = loadConfigFile(options.configFile);
  const results = await sendTestNotifications({
    config,
    channel,
    logger: createRedactingLogger(silentLogger, { secrets: config.secrets }),
  });
  if (options.json) options.out(JSON.stringify({ results }));
  for (const result of options.json ? [] : results) {
    if (result.delivered) options.out(`${result.channel} (${result.type}): test message delivered`);
    else options.err(`${result.channel} (${result.type}): ${result.error?.code}: ${result.error?.message}`);
  }
  return results.every((result) => result.delivered) ? 0 : 1;
}
