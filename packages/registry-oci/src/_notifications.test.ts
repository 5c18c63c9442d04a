import { readFileSync } from 'node:fs';
import { isCoreError } from '@docker-watcher/core';
import { describe, expect, it } from 'vitest';
import { parseNotificationEnvelope, verifyNotificationHeader } from './_notifications.ts';

const identity = { id: 'registry:oci', url: 'http://127.0.0.1:5000' };
const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`../test/fixtures/${name}`, import.meta.url)));
const encode = (value: unknown) =>
  new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return isCoreError(error) ? error.code : 'not a CoreError';
  }
  return undefined;
}

describe('parseNotificationEnvelope', () => {
  it('turns a manifest pushed by tag (captured from distribution 2.8) into a pushed observation', () => {
    expect(
      parseNotificationEnvelope(fixture('distribution-2.8-push-manifest-by-tag.json'), identity),
    ).toEqual([
      {
        repository: 'team/app',
        tag: 'v1.0.0',
        action: 'pushed',
        digest: 'sha256:c5fe31c38608c385d33d4ed44dfdad6ed9028231500163b7cf74f4cfc5767946',
        eventId: expect.stringMatching(/^[0-9a-f]{32}$/),
        occurredAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      },
    ]);
  });

  it('names an event by what it says happened, not by its id: a replay with a new id is the same event', () => {
    const event = (id: string, digest: string, timestamp = '2026-06-01T12:00:00.000Z') => ({
      id,
      timestamp,
      action: 'push',
      target: {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        repository: 'team/app',
        tag: 'v1',
        digest: `sha256:${digest.repeat(64)}`,
      },
    });
    const [first, replayed, other, later] = parseNotificationEnvelope(
      encode({
        events: [event('a', 'a'), event('b', 'a'), event('c', 'b'), event('d', 'a', '2026-06-02T00:00:00Z')],
      }),
      identity,
    );
    expect(replayed?.eventId).toBe(first?.eventId);
    expect(other?.eventId).not.toBe(first?.eventId);
    expect(later?.eventId).not.toBe(first?.eventId);
    expect(first?.occurredAt).toBe('2026-06-01T12:00:00.000Z');
  });

  it('ignores blob pushes, pulls, and manifests pushed by digest', () => {
    expect(parseNotificationEnvelope(fixture('distribution-2.8-push-blob.json'), identity)).toEqual([]);
    expect(parseNotificationEnvelope(fixture('distribution-2.8-pull-manifest.json'), identity)).toEqual([]);
    expect(parseNotificationEnvelope(fixture('docs-push-manifest-and-layers.json'), identity)).toEqual([]);
    expect(parseNotificationEnvelope(fixture('docs-pull-manifest.json'), identity)).toEqual([]);
  });

  it('keeps every tagged manifest push of a batch, of all four manifest types, and skips odd events', () => {
    const push = (id: string, mediaType: string, tag?: string) => ({
      id,
      action: 'push',
      target: {
        mediaType,
        repository: 'team/app',
        digest: `sha256:${'a'.repeat(64)}`,
        ...(tag ? { tag } : {}),
      },
    });
    const body = encode({
      events: [
        push('1', 'application/vnd.oci.image.index.v1+json', 'v1'),
        push('2', 'application/vnd.oci.image.manifest.v1+json', 'v2'),
        push('3', 'application/vnd.docker.distribution.manifest.list.v2+json', 'v3'),
        push('4', 'application/vnd.docker.distribution.manifest.v2+json', 'v4'),
        push('5', 'application/vnd.oci.image.manifest.v1+json'),
        push('6', 'application/vnd.oci.image.layer.v1.tar+gzip', 'v6'),
        { id: '7', action: 'delete', target: { repository: 'team/app', tag: 'v7' } },
        null,
        'junk',
        { action: 'push' },
        {
          action: 'push',
          target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', tag: 'no-repo' },
        },
        { ...push('8', 'application/vnd.oci.image.manifest.v1+json', 'v8'), extra: { unknown: true } },
      ],
    });
    const observations = parseNotificationEnvelope(body, identity);
    expect(observations.map((observation) => observation.tag)).toEqual(['v1', 'v2', 'v3', 'v4', 'v8']);
    expect(observations.every((observation) => observation.action === 'pushed')).toBe(true);
  });

  it('leaves out a digest that is not sha256 and a missing time', () => {
    const body = encode({
      events: [
        {
          action: 'push',
          target: {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            repository: 'a',
            tag: 't',
            digest: 'md5:x',
          },
        },
      ],
    });
    expect(parseNotificationEnvelope(body, identity)).toEqual([
      { repository: 'a', tag: 't', action: 'pushed', eventId: expect.stringMatching(/^[0-9a-f]{32}$/) },
    ]);
  });

  it('refuses malformed JSON, a non-envelope and a body over 1 MiB with BAD_REQUEST', () => {
    expect(codeOf(() => parseNotificationEnvelope(encode('{"events": ['), identity))).toBe('BAD_REQUEST');
    expect(codeOf(() => parseNotificationEnvelope(encode('<html>'), identity))).toBe('BAD_REQUEST');
    expect(codeOf(() => parseNotificationEnvelope(encode({ events: 'no' }), identity))).toBe('BAD_REQUEST');
    expect(codeOf(() => parseNotificationEnvelope(encode('null'), identity))).toBe('BAD_REQUEST');
    expect(codeOf(() => parseNotificationEnvelope(new Uint8Array([0xff, 0xfe]), identity))).toBe(
      'BAD_REQUEST',
    );
    const huge = encode({ events: [], padding: 'x'.repeat(1024 * 1024) });
    expect(codeOf(() => parseNotificationEnvelope(huge, identity))).toBe('BAD_REQUEST');
  });
});

describe('verifyNotificationHeader', () => {
  const auth = { header: 'authorization', secret: 'a-shared-secret' };
  const request = (headers: Record<string, string | undefined>) => ({ headers, body: new Uint8Array() });

  it('accepts the secret as is or as a Bearer value', () => {
    expect(
      codeOf(() => verifyNotificationHeader(request({ authorization: 'a-shared-secret' }), auth, identity)),
    ).toBeUndefined();
    expect(
      codeOf(() =>
        verifyNotificationHeader(request({ authorization: 'Bearer a-shared-secret' }), auth, identity),
      ),
    ).toBeUndefined();
    const custom = { header: 'x-registry-secret', secret: 'Bearer literal' };
    expect(
      codeOf(() =>
        verifyNotificationHeader(request({ 'x-registry-secret': 'Bearer literal' }), custom, identity),
      ),
    ).toBeUndefined();
  });

  it('refuses a missing, empty or wrong header with UNAUTHORIZED that does not echo the secret', () => {
    for (const headers of [
      {},
      { authorization: '' },
      { authorization: 'Bearer wrong' },
      { authorization: 'a-shared-secre' },
    ]) {
      let caught: unknown;
      try {
        verifyNotificationHeader(request(headers), auth, identity);
      } catch (error) {
        caught = error;
      }
      expect(isCoreError(caught, 'UNAUTHORIZED')).toBe(true);
      expect(JSON.stringify(caught)).not.toContain('a-shared-secret');
      expect(String((caught as Error).message)).not.toContain('a-shared-secret');
    }
  });
});
