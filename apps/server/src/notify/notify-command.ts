import type { Command } from '../cli-commands.ts';

/** `docker-watcher notify test [channel]`: exit code 0 when every message went through. */
export const notifyTestCommand: Command = {
  name: 'notify test',
  args: '[channel]',
  summary: 'send a test message to each notify channel (or the named one), and say what it answered',
  details:
    'Straight through the channel, with no retries, so its answer shows at once. Exit 1 when a channel refused or could not be reached; --json: { results: [{ channel, type, delivered, error? }] }.',
  examples: [
    'docker-watcher notify test',
    'docker-watcher notify test team-chat --config docker-watcher.yml',
  ],
  options: ['--config <file>'],
  arity: [0, 1],
  remote: false,
  async run(context) {
    // Loaded here: the CLI starts without the core, for the commands that never need it.
    const { createRedactingLogger, silentLogger } = await import('@docker-watcher/core');
    const { loadConfigFile } = await import('../config/load.ts');
    const { sendTestNotifications } = await import('./notify-test.ts');
    const config = await loadConfigFile(context.options.config);
    const results = await sendTestNotifications({
      config,
      channel: context.args[0],
      logger: createRedactingLogger(silentLogger, { secrets: config.secrets }),
    });
    for (const result of results) {
      if (result.delivered) context.print(`${result.channel} (${result.type}): test message delivered`);
      else
        context.progress(
          `${result.channel} (${result.type}): ${result.error?.code}: ${result.error?.message}`,
        );
    }
    return { json: { results }, code: results.every((result) => result.delivered) ? 0 : 1 };
  },
};
