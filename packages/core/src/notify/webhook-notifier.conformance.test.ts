import type { Notifier } from '../contracts/notifier.ts';
import type { NotifierHarness, ReceivedNotification } from '../testing/index.ts';
import { describeNotifier } from '../testing/vitest.ts';
import { startLoopbackReceiver } from './_loopback-receiver.ts';
import { createWebhookNotifier } from './webhook-notifier.ts';

/** The webhook notifier against a real loopback HTTP server: every notifier of a harness posts to it. */
async function webhookNotifierHarness(): Promise<NotifierHarness> {
  const receiver = await startLoopbackReceiver();
  const url = `${receiver.origin}/hooks/conformance`;
  const secret = 'conformance-secret';
  const extra: Notifier[] = [];
  return {
    notifier: createWebhookNotifier({ url, secret, timeoutMs: 2000 }),
    received: () =>
      receiver.requests.map((request): ReceivedNotification => {
        const { type, project, stage } = JSON.parse(request.body.toString('utf8'));
        return { type, project, stage };
      }),
    breakBackend: () => {
      receiver.reply({ status: 503, body: 'maintenance' });
    },
    filtered: (events) => {
      const notifier = createWebhookNotifier({ url, secret, events: [...events] });
      extra.push(notifier);
      return notifier;
    },
    dispose: async () => {
      await Promise.all(extra.map((notifier) => notifier.dispose()));
      await receiver.close();
    },
  };
}

describeNotifier({ name: 'notifier:webhook (loopback server)', create: webhookNotifierHarness });
