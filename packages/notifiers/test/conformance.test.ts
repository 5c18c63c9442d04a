// Every channel against the conformance kit, each on a loopback fake of its service built from
// the service's documented answers (packages/testkit/src/chat-fakes), email on a real Exim.
import type { NotifiableEventName } from '@docker-watcher/core';
import { describeNotifier } from '@docker-watcher/core/testing/vitest';
import {
  type FakeRequest,
  startDiscordFake,
  startGenericFake,
  startGotifyFake,
  startMatrixFake,
  startNtfyFake,
  startSlackFake,
  startSmtpServer,
  startTeamsFake,
  startTelegramFake,
} from '@docker-watcher/testkit/notify';
import { createDiscordNotifier } from '../src/discord/index.ts';
import { createEmailNotifier } from '../src/email/index.ts';
import { createGenericNotifier } from '../src/generic/index.ts';
import { createGotifyNotifier } from '../src/gotify/index.ts';
import { createMatrixNotifier } from '../src/matrix/index.ts';
import { createNtfyNotifier } from '../src/ntfy/index.ts';
import { createSlackNotifier } from '../src/slack/index.ts';
import { createTeamsNotifier } from '../src/teams/index.ts';
import { createTelegramNotifier } from '../src/telegram/index.ts';
import { fakeHarness, notificationOfTitle } from './_harness.ts';
import { subjectOf, titleOf } from './_titles.ts';

const events = (list?: readonly NotifiableEventName[]) => (list ? { events: [...list] } : {});
const json = (request: FakeRequest) => request.json as Record<string, never>;

describeNotifier({
  name: 'notifier:slack (loopback fake)',
  create: async () => {
    const fake = await startSlackFake();
    return fakeHarness({
      fake,
      create: (list) => createSlackNotifier({ url: fake.webhookUrl, ...events(list) }),
      titleOf: (request) => titleOf.slack(json(request)),
      outage: 'rollup_error',
    });
  },
});

describeNotifier({
  name: 'notifier:discord (loopback fake)',
  create: async () => {
    const fake = await startDiscordFake();
    return fakeHarness({
      fake,
      create: (list) =>
        createDiscordNotifier({
          webhookId: fake.webhookId,
          token: fake.token,
          apiUrl: fake.apiUrl,
          ...events(list),
        }),
      titleOf: (request) => titleOf.discord(json(request)),
      outage: { status: 502 },
    });
  },
});

describeNotifier({
  name: 'notifier:teams (loopback fake)',
  create: async () => {
    const fake = await startTeamsFake();
    return fakeHarness({
      fake,
      create: (list) => createTeamsNotifier({ url: fake.workflowUrl, ...events(list) }),
      titleOf: (request) => titleOf.teams(json(request)),
      outage: 'bad_gateway',
    });
  },
});

describeNotifier({
  name: 'notifier:telegram (loopback fake)',
  create: async () => {
    const fake = await startTelegramFake();
    return fakeHarness({
      fake,
      create: (list) =>
        createTelegramNotifier({
          token: fake.token,
          chats: ['@releases'],
          apiUrl: fake.apiUrl,
          ...events(list),
        }),
      titleOf: (request) => titleOf.telegram(json(request)),
      outage: 'reset',
    });
  },
});

describeNotifier({
  name: 'notifier:ntfy (loopback fake)',
  create: async () => {
    const fake = await startNtfyFake();
    return fakeHarness({
      fake,
      create: (list) =>
        createNtfyNotifier({ url: fake.origin, topic: fake.topic, token: fake.token, ...events(list) }),
      titleOf: (request) => titleOf.ntfy(json(request)),
      outage: 'too_many_requests',
    });
  },
});

describeNotifier({
  name: 'notifier:gotify (loopback fake)',
  create: async () => {
    const fake = await startGotifyFake();
    return fakeHarness({
      fake,
      create: (list) => createGotifyNotifier({ url: fake.url, token: fake.token, ...events(list) }),
      titleOf: (request) => titleOf.gotify(json(request)),
      outage: 'proxy_bad_gateway',
    });
  },
});

describeNotifier({
  name: 'notifier:matrix (loopback fake)',
  create: async () => {
    const fake = await startMatrixFake();
    return fakeHarness({
      fake,
      create: (list) =>
        createMatrixNotifier({
          homeserver: fake.homeserver,
          user: fake.user,
          password: fake.password,
          rooms: [fake.roomAlias],
          ...events(list),
        }),
      titleOf: (request) => titleOf.matrix(json(request)),
      outage: 'limited_header',
    });
  },
});

describeNotifier({
  name: 'notifier:generic (loopback fake, JSON template)',
  create: async () => {
    const fake = await startGenericFake();
    return fakeHarness({
      fake,
      create: (list) =>
        createGenericNotifier({
          url: `${fake.origin}/hooks/dw?key=dw-generic-key`,
          template: 'json',
          ...events(list),
        }),
      titleOf: (request) => String(json(request).title),
      outage: 'server_error',
    });
  },
});

describeNotifier({
  name: 'notifier:email (real Exim on loopback)',
  timeoutMs: 60_000,
  create: async () => {
    const server = await startSmtpServer({ auth: { username: 'watcher', password: 'dw-smtp-password' } });
    const extra: Array<{ dispose(): Promise<void> }> = [];
    const create = (list?: readonly NotifiableEventName[]) =>
      createEmailNotifier({
        host: server.host,
        port: server.port,
        encryption: 'starttls',
        tlsCa: server.ca,
        username: 'watcher',
        password: 'dw-smtp-password',
        from: 'watcher@localhost',
        to: ['ops@localhost'],
        ...events(list),
      });
    return {
      notifier: create(),
      received: async () => {
        // Exim accepts, then delivers to the mailbox: wait for its spool to empty.
        await server.delivered();
        return server.messages('ops').map((message) => notificationOfTitle(subjectOf(message)));
      },
      breakBackend: () => server.stop(),
      filtered: (list) => {
        const notifier = create(list);
        extra.push(notifier);
        return notifier;
      },
      dispose: async () => {
        await Promise.all(extra.map((notifier) => notifier.dispose()));
        await server.stop();
      },
    };
  },
});
