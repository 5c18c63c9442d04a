import { describe, expect, it } from 'vitest';
import { leftAlone, leftAloneText, printable } from './labels-text.ts';

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
