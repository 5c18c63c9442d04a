import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEnvFile, readEnvFiles } from './_env-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'dw-env-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('env files', () => {
  it('read KEY=VALUE lines with comments, export prefixes and quotes', () => {
    const text = [
      '# comment',
      '',
      'PLAIN=value',
      'export EXPORTED=yes',
      'SPACED = padded ',
      'DOUBLE="a b\\nc"',
      'SINGLE=\'x "y"\'',
      'EMPTY=',
      'EQUALS=a=b',
      'BARE',
    ].join('\n');
    expect(parseEnvFile(text)).toEqual({
      PLAIN: 'value',
      EXPORTED: 'yes',
      SPACED: 'padded',
      DOUBLE: 'a b\nc',
      SINGLE: 'x "y"',
      EMPTY: '',
      EQUALS: 'a=b',
    });
  });

  it('reject a line without a variable name, with its line number', () => {
    expect(() => parseEnvFile('OK=1\n =2', 'app.env')).toThrow('app.env:2');
  });

  it('merge in order, and a missing file is CONFIG_INVALID', async () => {
    writeFileSync(join(dir, 'a.env'), 'A=1\nB=1\n');
    writeFileSync(join(dir, 'b.env'), 'B=2\r\nC=2\r\n');
    expect(await readEnvFiles([join(dir, 'a.env'), join(dir, 'b.env')])).toEqual({ A: '1', B: '2', C: '2' });
    await expect(readEnvFiles([join(dir, 'missing.env')])).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: `Env file ${join(dir, 'missing.env')} cannot be read (ENOENT)`,
    });
  });
});
