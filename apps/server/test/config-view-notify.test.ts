// GET /api/config lists the running config: the notification channels' URLs carry tokens and
// passwords, in the file as well as through *_env, and are masked there like any other secret.
import { expect, it } from 'vitest';
import { inspectConfigText } from '../src/config/load.ts';
import { configValues } from '../src/http/config-view.ts';

const text = `
registries:
  r: { type: oci, url: "http://127.0.0.1:5000" }
projects:
  app:
    registry: r
    repository: web
    image: 127.0.0.1:5000/web
    stages:
      dev: { policy: { pattern: "dev-*" } }
notify:
  - "slack://hook:T000-B000-SECRETXYZ@webhook"
  - name: mail
    url: "smtp://user:pw123@mail.example.com:587/?from=a@b.c&to=d@e.f"
  - name: tg
    url: "telegram://123456789:AAExampleBotTokenSECRET0123456789@telegram?chats=1"
`;

it('masks the tokens and passwords of notification channels written into the file', async () => {
  const report = await inspectConfigText(text, {});
  expect(report.problems).toEqual([]);
  const values = configValues(report.config!).filter((value) => value.path.startsWith('notify'));
  expect(values.map((value) => value.path)).toEqual([
    'notify.0',
    'notify.1.name',
    'notify.1.url',
    'notify.2.name',
    'notify.2.url',
  ]);
  expect(JSON.stringify(values)).not.toMatch(/SECRET|pw123|123456789/);
});
