import { isCoreError } from '@docker-watcher/core';
import { describe, expect, it } from 'vitest';
import { notifierChannels, parseServiceUrl, serviceUrlExamples } from '../src/index.ts';

const problem = (url: string): string => {
  try {
    parseServiceUrl(url, 'notify.0.url');
  } catch (error) {
    if (isCoreError(error, 'CONFIG_INVALID')) return error.message;
    throw error;
  }
  throw new Error(`${url} parsed`);
};

describe('parseServiceUrl', () => {
  it("maps each supported scheme onto its channel, Watchtower's examples included", () => {
    const channels = Object.fromEntries(
      [
        'slack://watchtower@token-a/token-b/token-c',
        'discord://token@channel',
        `teams://?host=${encodeURIComponent('https://prod-00.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=x')}`,
        'telegram://123456:ABCdef@telegram?chats=@releases',
        'ntfy://ntfy.sh/topic',
        'gotify://my.gotify.tld/SuperSecretToken',
        'matrix://user:pass@matrix.example.org/?rooms=!room:example.org',
        'smtp://user:pass@smtp.example.com:587/?from=dw@example.com&to=ops@example.com',
        'generic://hooks.example.com/in',
        'generic+https://hooks.example.com/in',
        'https://hooks.example.com/docker-watcher',
      ].map((url) => [url.split(':')[0], parseServiceUrl(url).channel]),
    );
    expect(channels).toEqual({
      slack: 'slack',
      discord: 'discord',
      teams: 'teams',
      telegram: 'telegram',
      ntfy: 'ntfy',
      gotify: 'gotify',
      matrix: 'matrix',
      smtp: 'email',
      generic: 'generic',
      'generic+https': 'generic',
      https: 'webhook',
    });
    expect(Object.keys(notifierChannels).sort()).toEqual([
      'discord',
      'email',
      'generic',
      'gotify',
      'matrix',
      'ntfy',
      'slack',
      'teams',
      'telegram',
      'webhook',
    ]);
  });

  it('says clearly what is wrong, at the path, never quoting the URL', () => {
    expect(problem('pushover://shoutrrr:apiToken@userKey')).toMatch(
      /^Invalid notification URL:\nnotify\.0\.url: pushover:\/\/ is a Shoutrrr service Docker Watcher has no channel for; use generic:\/\//,
    );
    expect(problem('carrier-pigeon://coo')).toMatch(
      /unknown service carrier-pigeon:\/\/; one of: slack, discord/,
    );
    expect(problem('not a url')).toMatch(/is not a URL/);
    const message = problem('discord://s3cretToken@123456?colour=red');
    expect(message).toMatch(/discord:\/\/ URL discord:\/\/ URLs take no parameter "colour"/);
    expect(message).not.toContain('s3cretToken');
  });
});

describe('the examples the config reference shows', () => {
  it('name every channel once, and each parses as its channel', () => {
    expect(serviceUrlExamples.map((example) => example.channel).sort()).toEqual(
      Object.keys(notifierChannels).sort(),
    );
    for (const example of serviceUrlExamples)
      expect(parseServiceUrl(example.url).channel, example.url).toBe(example.channel);
  });
});
