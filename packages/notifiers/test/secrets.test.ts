// No channel lets a secret (a token in its URL or options, text of its templates) reach its logs
// or its errors, whatever the service answers, even when the service echoes the request back.
import { createMemoryLogger, isCoreError, type Notifier } from '@docker-watcher/core';
import {
  type ChatServiceFake,
  startDiscordFake,
  startGenericFake,
  startGotifyFake,
  startMatrixFake,
  startNtfyFake,
  startSlackFake,
  startTeamsFake,
  startTelegramFake,
} from '@docker-watcher/testkit/notify';
import { describe, expect, it } from 'vitest';
import { createDiscordNotifier } from '../src/discord/index.ts';
import { createGenericNotifier } from '../src/generic/index.ts';
import { createGotifyNotifier } from '../src/gotify/index.ts';
import { createMatrixNotifier } from '../src/matrix/index.ts';
import { createNtfyNotifier } from '../src/ntfy/index.ts';
import { createSlackNotifier } from '../src/slack/index.ts';
import { createTeamsNotifier } from '../src/teams/index.ts';
import { createTelegramNotifier } from '../src/telegram/index.ts';
import { sample } from './_harness.ts';

const templateSecret = 'tplSecret7a3c91';
const templates = { titleTemplate: `{{title}} ${templateSecret}` };

interface Case {
  readonly fake: ChatServiceFake<string>;
  readonly notifier: (logger: ReturnType<typeof createMemoryLogger>) => Notifier;
  readonly secrets: readonly string[];
}

const cases: Record<string, () => Promise<Case>> = {
  slack: async () => {
    const fake = await startSlackFake();
    return {
      fake,
      notifier: (logger) => createSlackNotifier({ url: fake.webhookUrl, ...templates }, { logger }),
      secrets: [fake.webhookUrl, 'dwSlackSecret0123456789'],
    };
  },
  discord: async () => {
    const fake = await startDiscordFake();
    return {
      fake,
      notifier: (logger) =>
        createDiscordNotifier(
          { webhookId: fake.webhookId, token: fake.token, apiUrl: fake.apiUrl, ...templates },
          { logger },
        ),
      secrets: [fake.token],
    };
  },
  teams: async () => {
    const fake = await startTeamsFake();
    return {
      fake,
      notifier: (logger) => createTeamsNotifier({ url: fake.workflowUrl, ...templates }, { logger }),
      secrets: ['dwTeamsSig_0123456789abcdefABCDEF'],
    };
  },
  telegram: async () => {
    const fake = await startTelegramFake();
    return {
      fake,
      notifier: (logger) =>
        createTelegramNotifier(
          { token: fake.token, chats: ['@releases'], apiUrl: fake.apiUrl, ...templates },
          { logger },
        ),
      secrets: [fake.token, 'AAdwTelegramSecret_0123456789abcdef'],
    };
  },
  ntfy: async () => {
    const fake = await startNtfyFake();
    return {
      fake,
      notifier: (logger) =>
        createNtfyNotifier(
          {
            url: fake.origin,
            topic: fake.topic,
            username: fake.username,
            password: fake.password,
            ...templates,
          },
          { logger },
        ),
      secrets: [fake.password, Buffer.from(`${fake.username}:${fake.password}`).toString('base64')],
    };
  },
  gotify: async () => {
    const fake = await startGotifyFake();
    return {
      fake,
      notifier: (logger) =>
        createGotifyNotifier({ url: fake.url, token: fake.token, ...templates }, { logger }),
      secrets: [fake.token],
    };
  },
  matrix: async () => {
    const fake = await startMatrixFake();
    return {
      fake,
      notifier: (logger) =>
        createMatrixNotifier(
          {
            homeserver: fake.homeserver,
            user: fake.user,
            password: fake.password,
            rooms: [fake.roomAlias],
            ...templates,
          },
          { logger },
        ),
      secrets: [fake.password],
    };
  },
  generic: async () => {
    const fake = await startGenericFake();
    const key = 'dw-generic-Key-0123';
    return {
      fake,
      notifier: (logger) =>
        createGenericNotifier(
          {
            url: `${fake.origin}/in?key=${key}`,
            headers: { authorization: `Bearer ${key}x` },
            template: 'json',
            ...templates,
          },
          { logger },
        ),
      secrets: [key],
    };
  },
};

describe('secrets', () => {
  for (const [name, start] of Object.entries(cases)) {
    it(`${name}: never in logs or errors, also when the service echoes the request`, async () => {
      const { fake, notifier: create, secrets } = await start();
      const logger = createMemoryLogger();
      const notifier = create(logger);
      const errors: unknown[] = [];
      try {
        await notifier.notify({ event: sample('deploy:failed') });
        expect(fake.messages.at(-1)?.body).toContain(templateSecret);
        // A service that quotes the whole request in its error: the worst case.
        fake.script(
          {
            status: 400,
            headers: { 'content-type': 'text/plain' },
            body: JSON.stringify(fake.requests.at(-1)),
          },
          { status: 500, body: `internal error ${secrets.join(' ')} ${templateSecret}` },
          'reset',
        );
        for (let i = 0; i < 3; i++)
          await notifier
            .notify({ event: sample('deploy:failed') })
            .catch((error: unknown) => errors.push(error));
      } finally {
        await notifier.dispose();
        await fake.close();
      }
      expect(errors).toHaveLength(3);
      const seen = JSON.stringify({
        logs: logger.entries,
        errors: errors.map((error) =>
          isCoreError(error) ? { message: error.message, json: error.toJSON() } : String(error),
        ),
      });
      expect(logger.entries.length).toBeGreaterThan(0);
      for (const secret of [...secrets, templateSecret]) expect(seen).not.toContain(secret);
    });
  }
});
