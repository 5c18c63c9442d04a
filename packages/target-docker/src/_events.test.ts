import { describe, expect, it } from 'vitest';
import { parseContainerEvent } from './_events.ts';

describe('parseContainerEvent', () => {
  it('reads a container event: id, action, labels as attributes, time', () => {
    const line = JSON.stringify({
      Type: 'container',
      Action: 'start',
      Actor: { ID: 'abc', Attributes: { 'docker-watcher.stage': 'dev', name: 'web', count: 3 } },
      time: 1_700_000_000,
    });
    const event = parseContainerEvent(line);
    expect(event).toMatchObject({ id: 'abc', action: 'start', time: 1_700_000_000 });
    // Only string attributes; a label named like an Object member finds nothing inherited.
    expect({ ...event?.attributes }).toEqual({ 'docker-watcher.stage': 'dev', name: 'web' });
    expect(event?.attributes.constructor).toBeUndefined();
  });

  it('skips what is not a container event', () => {
    expect(parseContainerEvent('not json')).toBeUndefined();
    expect(parseContainerEvent('null')).toBeUndefined();
    expect(
      parseContainerEvent(JSON.stringify({ Type: 'network', Action: 'connect', Actor: { ID: 'n' } })),
    ).toBeUndefined();
    expect(parseContainerEvent(JSON.stringify({ Type: 'container', Action: 'start' }))).toBeUndefined();
  });
});
