import { describe, expect, it } from 'vitest';
import { demultiplex, lastLines } from './_demux.ts';

function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe('log demultiplexing', () => {
  it('joins stdout and stderr frames in order', () => {
    const buffer = Buffer.concat([frame(1, 'out one\n'), frame(2, 'err one\n'), frame(1, 'out two\n')]);
    expect(demultiplex(buffer)).toBe('out one\nerr one\nout two\n');
  });

  it('passes TTY output through', () => {
    expect(demultiplex(Buffer.from('plain tty line\n'))).toBe('plain tty line\n');
  });

  it('survives a truncated last frame', () => {
    const buffer = Buffer.concat([frame(1, 'whole\n'), frame(1, 'cut off here').subarray(0, 12)]);
    expect(demultiplex(buffer)).toBe('whole\ncut ');
  });

  it('keeps the last tail non-empty lines', () => {
    expect(lastLines('a\n\nb\r\nc\n', 2)).toEqual(['b', 'c']);
    expect(lastLines('a\n', 0)).toEqual([]);
  });
});
