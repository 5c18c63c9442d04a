import { describe, expect, it } from 'vitest';
import { hostDifferences } from './machine-state.ts';

const before = { links: ['docker0', 'eth0', 'lo'], enginePid: 4242 };

describe('hostDifferences', () => {
  it('finds nothing when the host is as it was', () => {
    expect(hostDifferences(before, { ...before }, false)).toEqual([]);
  });

  it('reports a network device the host lost, also while other runs share the machine', () => {
    const after = { ...before, links: ['eth0', 'lo'] };
    expect(hostDifferences(before, after, true)).toEqual(['the host lost its network device docker0']);
  });

  it("reports a device left behind, unless another run's containers may have made it", () => {
    const after = { ...before, links: [...before.links, 'veth1234'] };
    expect(hostDifferences(before, after, false)).toEqual([
      'a network device was left on the host: veth1234',
    ]);
    expect(hostDifferences(before, after, true)).toEqual([]);
  });

  it('reports an engine the run started and left running, stopped, or restarted', () => {
    const down = { links: before.links, enginePid: undefined };
    expect(hostDifferences(down, before, false)).toEqual([
      'a Docker Engine the run started is still running',
    ]);
    expect(hostDifferences(before, down, false)).toEqual([
      'the Docker Engine that ran before the run no longer answers',
    ]);
    expect(hostDifferences(before, { ...before, enginePid: 5151 }, false)).toEqual([
      'the Docker Engine was restarted (pid 4242, now 5151)',
    ]);
  });
});
