import { describe, expect, it } from 'vitest';
import { leftAlone, leftAloneText, printable, updatesText } from './labels-text.ts';

describe('left-alone containers as text', () => {
  it('names each problem per container, and shows control characters escaped', () => {
    const containers = leftAlone({
      enabled: true,
      containers: [
        { name: 'web', id: 'a', watched: true, project: 'web', stage: 'live', problems: [] },
        {
          name: 'odd',
          id: 'b',
          watched: false,
          problems: [{ label: 'docker-watcher.policy.include', message: 'bad regex \u001b[2J\u0007' }],
        },
      ],
    });
    expect(leftAloneText(containers)).toBe(
      'left alone (labels):\n  odd: docker-watcher.policy.include: bad regex \\u001b[2J\\u0007',
    );
    expect(leftAloneText([])).toBe('');
    expect(printable('tab\there')).toBe('tab\\u0009here');
  });
});

describe('how labelled containers are updated, as text', () => {
  it('says side by side, or in place and why, for each watched container', () => {
    const text = updatesText({
      enabled: true,
      containers: [
        { name: 'api', id: 'a', watched: true, update: { mode: 'side-by-side' }, problems: [] },
        {
          name: 'web',
          id: 'b',
          watched: true,
          update: { mode: 'in-place', reason: 'fixed host port 8080->8080/tcp' },
          problems: [],
        },
        { name: 'odd', id: 'c', watched: false, problems: [{ label: 'x', message: 'y' }] },
      ],
    });
    expect(text).toBe(
      'updates of labelled containers:\n  api: side by side\n  web: in place (fixed host port 8080->8080/tcp)',
    );
    expect(updatesText({ enabled: true, containers: [] })).toBe('');
  });
});
