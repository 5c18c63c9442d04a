import type { Notifier } from '@docker-watcher/core';
import { startTeamsFake, type TeamsFake } from '@docker-watcher/testkit/notify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTeamsNotifier, teamsFromServiceUrl } from '../src/teams/index.ts';
import { expectAnswers, hugeEvent, nth, sample } from './_harness.ts';

let fake: TeamsFake;
let notifier: Notifier;

beforeEach(async () => {
  fake = await startTeamsFake();
  notifier = createTeamsNotifier({ url: fake.workflowUrl, publicUrl: 'https://dw.example' });
});
afterEach(async () => {
  await notifier.dispose();
  await fake.close();
});

describe('teams', () => {
  it('posts an Adaptive Card the workflow template takes, with an Action.OpenUrl to the approvals page', async () => {
    await notifier.notify({ event: sample('deploy:awaiting-confirmation') });
    const content = (nth(fake.messages).json as { attachments: Array<{ content: Record<string, unknown> }> })
      .attachments[0]?.content;
    expect(content?.type).toBe('AdaptiveCard');
    expect(content?.version).toBe('1.4');
    const [title, , facts] = (content?.body ?? []) as Array<Record<string, unknown>>;
    expect(title).toMatchObject({
      type: 'TextBlock',
      text: 'web/prod: v1.2.3 awaits approval',
      color: 'Accent',
      weight: 'Bolder',
    });
    expect(facts?.type).toBe('FactSet');
    expect(content?.actions).toEqual([
      { type: 'Action.OpenUrl', title: 'Review approval', url: 'https://dw.example/approvals' },
    ]);
    expect(fake.flowFailures).toEqual([]);
  });

  it('stays well below the size at which the flow fails unseen', async () => {
    await notifier.notify({ event: hugeEvent() });
    await notifier.notifyDigest?.({ digest: { events: Array.from({ length: 200 }, () => hugeEvent()) } });
    expect(fake.messages).toHaveLength(2);
    expect(fake.flowFailures).toEqual([]);
  });

  it('maps the answers, never quoting the sig', async () => {
    await expectAnswers(
      fake,
      notifier,
      [
        ['unauthorized', { code: 'UNAUTHORIZED', retryable: false }],
        ['not_found', { code: 'NOT_FOUND', retryable: false }],
        ['rate_limited', { code: 'RATE_LIMITED', retryable: true, retryAfterMs: 2000 }],
        ['rate_limited_no_header', { code: 'RATE_LIMITED', retryable: true }],
        ['bad_gateway', { code: 'UNAVAILABLE', retryable: true }],
      ],
      ['dwTeamsSig_0123456789abcdefABCDEF'],
    );
  });

  it('refuses retired Office 365 connector webhooks with what to do instead', () => {
    expect(() =>
      createTeamsNotifier({
        url: 'https://contoso.webhook.office.com/webhookb2/abc@def/IncomingWebhook/123/456',
      }),
    ).toThrow(/Office 365 connector webhook, which Microsoft retired/);
  });
});

describe('teams service URLs', () => {
  it('reads teams://?host=<workflow URL> and delivers there', async () => {
    const { options, secrets } = teamsFromServiceUrl(
      new URL(`teams://?host=${encodeURIComponent(fake.workflowUrl)}&title=Deploys&color=ff0000`),
    );
    expect(options).toEqual({ url: fake.workflowUrl, titleTemplate: 'Deploys: {{title}}' });
    expect(secrets).toContain('dwTeamsSig_0123456789abcdefABCDEF');
    const local = createTeamsNotifier(options as { url: string });
    await local.notify({ event: sample('deploy:failed') });
    await local.dispose();
    expect(fake.messages).toHaveLength(1);
  });

  it('flags the connector forms of older Shoutrrr versions as dead', () => {
    for (const url of [
      'teams://group@tenant/altId/groupOwner?host=contoso.webhook.office.com',
      'teams://group@tenant/altId/groupOwner/extraId?host=contoso.webhook.office.com',
      'teams://group@tenant/altId/groupOwner',
    ]) {
      expect(() => teamsFromServiceUrl(new URL(url))).toThrow(/Microsoft retired/);
    }
  });
});
