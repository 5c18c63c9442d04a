import { describe, expect, it } from 'vitest';
import type { NotificationEvent } from '../contracts/notifier.ts';
import {
  describeDigest,
  describeNotification,
  formatDuration,
  shortDigest,
  templateValuesOf,
} from './message.ts';
import { compileNotificationTemplate } from './template.ts';

const at = '2026-01-01T10:00:00.000Z';
const release = { tag: 'v1.4.2', digest: `sha256:${'a1'.repeat(32)}` };
const previous = { tag: 'v1.4.1', digest: `sha256:${'b2'.repeat(32)}` };
const publicUrl = 'https://deploy.example.com/watcher';

const failed: NotificationEvent = {
  type: 'deploy:failed',
  at,
  deployId: 'd/42',
  project: 'web',
  stage: 'prod',
  release,
  previous,
  durationMs: 72_400,
  error: { code: 'TIMEOUT', message: 'health gate timed out', retryable: true, details: {} },
};

const awaiting: NotificationEvent = {
  type: 'deploy:awaiting-confirmation',
  at,
  project: 'web',
  stage: 'prod',
  release,
  approvalId: 'ap-7',
  current: previous,
};

describe('describeNotification', () => {
  it('says what changed: project, stage, tag, short digest, previous release, duration, reason', () => {
    const message = describeNotification(failed, { publicUrl });
    expect(message).toEqual({
      tone: 'failure',
      title: 'web/prod: v1.4.2 failed',
      text: 'Deploying v1.4.2 to prod of web failed: health gate timed out',
      fields: [
        { label: 'Project', value: 'web' },
        { label: 'Stage', value: 'prod' },
        { label: 'Tag', value: 'v1.4.2' },
        { label: 'Digest', value: 'sha256:a1a1a1a1a1a1' },
        { label: 'Previous', value: 'v1.4.1 (sha256:b2b2b2b2b2b2)' },
        { label: 'Duration', value: '1 min 12 s' },
        { label: 'Error', value: 'TIMEOUT: health gate timed out' },
      ],
      link: { label: 'Open deploy', url: 'https://deploy.example.com/watcher/deploys/d%2F42' },
      types: ['deploy:failed'],
    });
  });

  it('links a waiting release to the approvals page, never to a URL that acts', () => {
    const message = describeNotification(awaiting, { publicUrl: 'https://deploy.example.com/' });
    expect(message.tone).toBe('action');
    expect(message.title).toBe('web/prod: v1.4.2 awaits approval');
    expect(message.link).toEqual({ label: 'Review approval', url: 'https://deploy.example.com/approvals' });
    expect(message.fields).toContainEqual({ label: 'Running now', value: 'v1.4.1 (sha256:b2b2b2b2b2b2)' });
  });

  it('has no link without a public URL', () => {
    expect(describeNotification(failed).link).toBeUndefined();
  });

  it('describes every notifiable event', () => {
    const events: NotificationEvent[] = [
      {
        type: 'deploy:started',
        at,
        deployId: 'd1',
        project: 'web',
        stage: 'dev',
        release,
        trigger: 'manual',
        by: 'ana',
      },
      {
        type: 'deploy:succeeded',
        at,
        deployId: 'd1',
        project: 'web',
        stage: 'dev',
        release,
        durationMs: 900,
      },
      failed,
      {
        type: 'deploy:rolled-back',
        at,
        deployId: 'd1',
        project: 'web',
        stage: 'dev',
        release,
        restored: previous,
        reason: 'unhealthy',
      },
      awaiting,
      { type: 'release:available', at, project: 'web', stage: 'rel', release, reason: 'newest v* tag' },
      {
        type: 'adapter:error',
        at,
        adapterId: 'registry:gitea',
        operation: 'listTags',
        error: { code: 'UNAVAILABLE', message: 'answered 503', retryable: true, details: {} },
      },
      { type: 'engine:leadership', at, holder: 'host-a:8080', leader: true },
    ];
    expect(
      events.map((event) => [describeNotification(event).tone, describeNotification(event).title]),
    ).toEqual([
      ['info', 'web/dev: deploying v1.4.2'],
      ['success', 'web/dev: v1.4.2 deployed'],
      ['failure', 'web/prod: v1.4.2 failed'],
      ['warning', 'web/dev: v1.4.2 rolled back'],
      ['action', 'web/prod: v1.4.2 awaits approval'],
      ['action', 'web/rel: v1.4.2 available'],
      ['warning', 'registry:gitea: listTags failed'],
      ['info', 'host-a:8080 leads now'],
    ]);
    expect(describeNotification(events[0] as NotificationEvent).text).toBe(
      'Deploying v1.4.2 to dev of web (manual by ana).',
    );
    expect(describeNotification(events[1] as NotificationEvent).text).toBe(
      'v1.4.2 is live in dev of web after 900 ms.',
    );
  });

  it('applies title and text templates to the event values', () => {
    const message = describeNotification(failed, {
      publicUrl,
      templates: {
        title: compileNotificationTemplate('{{ stage | upper }} {{ tag }}: {{ error_code }}'),
        text: compileNotificationTemplate(
          '{{reason}}{{#previous}}; {{previous}} keeps serving{{/previous}} {{link}}',
        ),
      },
    });
    expect(message.title).toBe('PROD v1.4.2: TIMEOUT');
    expect(message.text).toBe(
      'health gate timed out; v1.4.1 keeps serving https://deploy.example.com/watcher/deploys/d%2F42',
    );
  });

  it('gives templates a null-prototype set of values', () => {
    const values = templateValuesOf(failed);
    expect(Object.getPrototypeOf(values)).toBeNull();
    expect(values).toMatchObject({
      project: 'web',
      tag: 'v1.4.2',
      previous: 'v1.4.1',
      duration: '1 min 12 s',
    });
  });
});

describe('describeDigest', () => {
  it('is one message with a line per event, coloured by the most serious one', () => {
    const succeeded: NotificationEvent = {
      type: 'deploy:succeeded',
      at,
      deployId: 'd2',
      project: 'api',
      stage: 'dev',
      release,
    };
    const message = describeDigest({ events: [succeeded, failed, awaiting] }, { publicUrl });
    expect(message.tone).toBe('failure');
    expect(message.title).toBe('Docker Watcher: 3 notifications');
    expect(message.text).toBe('3 events in api, web.');
    expect(message.items?.map((item) => item.title)).toEqual([
      'api/dev: v1.4.2 deployed',
      'web/prod: v1.4.2 failed',
      'web/prod: v1.4.2 awaits approval',
    ]);
    expect(message.link).toEqual({
      label: 'Review approvals',
      url: 'https://deploy.example.com/watcher/approvals',
    });
  });

  it('reports what was dropped', () => {
    const message = describeDigest({
      events: [],
      dropped: {
        count: 12,
        types: { 'deploy:succeeded': 10, 'deploy:failed': 2 },
        from: at,
        to: '2026-01-01T10:05:00.000Z',
      },
    });
    expect(message.title).toBe('Docker Watcher: 12 notifications dropped');
    expect(message.tone).toBe('warning');
    expect(message.text).toBe(
      '12 notifications could not be delivered and were dropped (10 deploy:succeeded, 2 deploy:failed; 2026-01-01T10:00:00.000Z to 2026-01-01T10:05:00.000Z).',
    );
  });
});

describe('formatting', () => {
  it('shortens digests and formats durations', () => {
    expect(shortDigest(`sha256:${'f'.repeat(64)}`)).toBe('sha256:ffffffffffff');
    expect([840, 1840, 72_400, 3_725_000].map(formatDuration)).toEqual([
      '840 ms',
      '1.8 s',
      '1 min 12 s',
      '1 h 2 min',
    ]);
  });
});
