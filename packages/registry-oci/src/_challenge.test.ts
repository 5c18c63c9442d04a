import { describe, expect, it } from 'vitest';
import { parseChallenges } from './_challenge.ts';

describe('parseChallenges', () => {
  it('reads a Bearer challenge with realm, service and scope', () => {
    expect(
      parseChallenges(
        'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/web:pull"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: { realm: 'https://ghcr.io/token', service: 'ghcr.io', scope: 'repository:acme/web:pull' },
      },
    ]);
  });

  it('keeps commas, spaces and escaped quotes inside quoted values', () => {
    const [challenge] = parseChallenges(
      'Bearer realm="https://auth.example.com/token?a=1,b=2", scope="repository:x/y:pull,push repository:z:pull", error="say \\"hi\\", then go"',
    );
    expect(challenge?.params).toEqual({
      realm: 'https://auth.example.com/token?a=1,b=2',
      scope: 'repository:x/y:pull,push repository:z:pull',
      error: 'say "hi", then go',
    });
  });

  it('splits several challenges in one header, as fetch joins repeated headers', () => {
    const challenges = parseChallenges(
      'Basic realm="registry", Bearer realm="https://t.example/token",service="reg"',
    );
    expect(challenges.map((challenge) => challenge.scheme)).toEqual(['basic', 'bearer']);
    expect(challenges[1]?.params).toEqual({ realm: 'https://t.example/token', service: 'reg' });
  });

  it('accepts unquoted values, odd spacing and upper-case names', () => {
    expect(parseChallenges('BEARER  Realm = https://t.example/token ,  Service=reg')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://t.example/token', service: 'reg' } },
    ]);
  });

  it('reads a bare scheme and a token68 credential without taking them for parameters', () => {
    expect(parseChallenges('Negotiate')).toEqual([{ scheme: 'negotiate', params: {} }]);
    expect(parseChallenges('Newauth dXNlcg==, Basic realm="x"')).toEqual([
      { scheme: 'newauth', params: {} },
      { scheme: 'basic', params: { realm: 'x' } },
    ]);
  });

  it('gives nothing for an absent or empty header, and survives junk', () => {
    expect(parseChallenges(undefined)).toEqual([]);
    expect(parseChallenges(null)).toEqual([]);
    expect(parseChallenges('')).toEqual([]);
    expect(parseChallenges('"unterminated')).toEqual([{ scheme: 'unterminated', params: {} }]);
    expect(parseChallenges('Bearer realm="open')).toEqual([{ scheme: 'bearer', params: { realm: 'open' } }]);
  });
});
