import { describe, expect, it } from 'vitest';
import { type ContainerFacts, parseContainerLabels } from './parse-labels.ts';

const facts = (
  labels: Record<string, string>,
  image = '127.0.0.1:5000/x:latest',
  name = 'web',
): ContainerFacts => ({
  id: 'c1',
  name,
  image,
  labels,
});

describe('parseContainerLabels', () => {
  it('a container without labels is not watched, unless every container is', () => {
    expect(parseContainerLabels(facts({})).kind).toBe('ignored');
    const all = parseContainerLabels(facts({}), { watchAll: true });
    expect(all).toMatchObject({
      kind: 'stage',
      stage: { source: 'watch-all', project: 'web', stage: 'live' },
    });
    expect(parseContainerLabels(facts({ 'docker-watcher.enable': 'false' }), { watchAll: true }).kind).toBe(
      'ignored',
    );
  });

  it('by default watches the running tag’s digest, as Watchtower does', () => {
    const verdict = parseContainerLabels(facts({ 'docker-watcher.enable': 'true' }));
    expect(verdict).toEqual({
      kind: 'stage',
      stage: {
        project: 'web',
        stage: 'live',
        container: { id: 'c1', name: 'web' },
        image: { repository: '127.0.0.1:5000/x', host: '127.0.0.1:5000', path: 'x', tag: 'latest' },
        policy: { pin: 'latest' },
        autoDeploy: true,
        health: {},
        source: 'docker-watcher',
        notify: [],
      },
    });
  });

  it('reads the stop timeout, the update window and the channels to tell', () => {
    const verdict = parseContainerLabels(
      facts({
        'docker-watcher.enable': 'true',
        'docker-watcher.stop-timeout': '45',
        'docker-watcher.schedule': '02:00-05:00 Europe/Berlin',
        'docker-watcher.notify': 'team-chat, ops_mail,team-chat',
      }),
    );
    expect(verdict).toMatchObject({
      kind: 'stage',
      stage: {
        stopTimeoutSeconds: 45,
        updateWindow: { startMinute: 120, endMinute: 300, timeZone: 'Europe/Berlin' },
        notify: ['team-chat', 'ops_mail'],
      },
    });
  });

  it('names a bad stop timeout, update window, channel list or update mode and leaves the container alone', () => {
    for (const [label, value] of [
      ['docker-watcher.stop-timeout', '-1'],
      ['docker-watcher.stop-timeout', '10s'],
      ['docker-watcher.stop-timeout', '3601'],
      ['docker-watcher.schedule', 'nights'],
      ['docker-watcher.schedule', '02:00-05:00 Nowhere/Land'],
      ['docker-watcher.notify', 'Team Chat'],
      ['docker-watcher.notify', ' , '],
      ['docker-watcher.update', 'sometimes'],
    ] as const) {
      const verdict = parseContainerLabels(facts({ 'docker-watcher.enable': 'true', [label]: value }));
      expect(verdict, `${label}=${value}`).toMatchObject({ kind: 'invalid', problems: [{ label }] });
    }
  });

  it('reads policy, project, stage, auto-deploy and health labels', () => {
    const verdict = parseContainerLabels(
      facts({
        'docker-watcher.enable': 'TRUE',
        'docker-watcher.project': 'shop',
        'docker-watcher.stage': 'prod',
        'docker-watcher.semver': '^1.2',
        'docker-watcher.tag.exclude': '-debug$',
        'docker-watcher.auto-deploy': 'false',
        'docker-watcher.health.path': '/health',
        'docker-watcher.health.port': '8080',
      }),
    );
    expect(verdict).toMatchObject({
      kind: 'stage',
      stage: {
        project: 'shop',
        stage: 'prod',
        policy: { semver: '^1.2', exclude: '-debug$' },
        autoDeploy: false,
        health: { path: '/health', port: 8080 },
      },
    });
  });

  it('understands Watchtower’s and What’s Up Docker’s labels', () => {
    expect(parseContainerLabels(facts({ 'com.centurylinklabs.watchtower.enable': 'true' }))).toMatchObject({
      kind: 'stage',
      stage: { source: 'watchtower', policy: { pin: 'latest' } },
    });
    expect(
      parseContainerLabels(facts({ 'com.centurylinklabs.watchtower.enable': 'false' }), { watchAll: true })
        .kind,
    ).toBe('ignored');
    expect(
      parseContainerLabels(
        facts({ 'wud.watch': 'true', 'wud.tag.include': '^\\d+\\.\\d+\\.\\d+$' }, 'x:1.2.3'),
      ),
    ).toMatchObject({
      kind: 'stage',
      stage: { source: 'wud', policy: { semver: '*', include: '^\\d+\\.\\d+\\.\\d+$' } },
    });
    expect(
      parseContainerLabels(facts({ 'wud.watch': 'true', 'wud.watch.digest': 'true' }, 'x:edge')),
    ).toMatchObject({
      kind: 'stage',
      stage: { policy: { pin: 'edge' } },
    });
  });

  it('names each bad label and leaves the container alone', () => {
    const verdict = parseContainerLabels(
      facts({
        'docker-watcher.enable': 'true',
        'docker-watcher.tag.include': '(a+)+$',
        'docker-watcher.auto-deploy': 'sometimes',
        'docker-watcher.health.path': '/health',
      }),
    );
    expect(verdict.kind).toBe('invalid');
    const labels = verdict.kind === 'invalid' ? verdict.problems.map((p) => p.label).sort() : [];
    expect(labels).toEqual([
      'docker-watcher.auto-deploy',
      'docker-watcher.health.port',
      'docker-watcher.tag.include',
    ]);
    expect(parseContainerLabels(facts({ 'docker-watcher.enable': 'yes' })).kind).toBe('invalid');
    expect(
      parseContainerLabels(facts({ 'docker-watcher.enable': 'true' }, `x@sha256:${'c'.repeat(64)}`)),
    ).toMatchObject({ kind: 'invalid', problems: [{ label: 'docker-watcher.semver' }] });
  });

  it('with a scope, watches only the containers of that scope', () => {
    const labels = { 'docker-watcher.enable': 'true' };
    expect(parseContainerLabels(facts(labels), { scope: 'blue' }).kind).toBe('ignored');
    expect(
      parseContainerLabels(facts({ ...labels, 'docker-watcher.scope': 'green' }), { scope: 'blue' }).kind,
    ).toBe('ignored');
    expect(
      parseContainerLabels(facts({ ...labels, 'docker-watcher.scope': 'blue' }), { scope: 'blue' }).kind,
    ).toBe('stage');
  });

  it('leaves the target’s own containers and set-aside old containers to the target', () => {
    expect(
      parseContainerLabels(facts({ 'docker-watcher.enable': 'true', 'docker-watcher.managed': 'true' })).kind,
    ).toBe('ignored');
    expect(
      parseContainerLabels(facts({ 'docker-watcher.enable': 'true' }, undefined, 'web.dw-aside.1234')).kind,
    ).toBe('ignored');
  });
});
