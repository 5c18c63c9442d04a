import { describe, expect, it } from 'vitest';
import { CoreError } from './errors.ts';
import { createMemoryLogger, createRedactingLogger, defaultSecretKeys, silentLogger } from './logger.ts';

describe('silentLogger', () => {
  it('accepts every call and its children are silent too', () => {
    for (const logger of [silentLogger, silentLogger.child({ a: 1 }).child({ b: 2 })]) {
      expect(() => {
        logger.debug('d');
        logger.info('i', { x: 1 });
        logger.warn('w');
        logger.error('e', { error: new Error('x') });
      }).not.toThrow();
    }
    expect(Object.isFrozen(silentLogger)).toBe(true);
  });
});

describe('createMemoryLogger', () => {
  it('records level, message and fields of every call', () => {
    const logger = createMemoryLogger();
    logger.debug('pulling');
    logger.info('pulled', { digest: 'sha256:aaaa' });
    logger.warn('retrying', { attempt: 2 });
    logger.error('gave up');
    expect(logger.entries).toEqual([
      { level: 'debug', message: 'pulling', fields: {} },
      { level: 'info', message: 'pulled', fields: { digest: 'sha256:aaaa' } },
      { level: 'warn', message: 'retrying', fields: { attempt: 2 } },
      { level: 'error', message: 'gave up', fields: {} },
    ]);
  });

  it('merges child fields, also for a child of a child, with the call fields winning', () => {
    const root = createMemoryLogger();
    const adapter = root.child({ adapter: 'registry:gitea', scope: 'adapter' });
    const call = adapter.child({ operation: 'listTags', scope: 'call' });
    call.info('page', { page: 2, scope: 'page' });
    adapter.info('ready');
    expect(root.entries).toEqual([
      {
        level: 'info',
        message: 'page',
        fields: { adapter: 'registry:gitea', operation: 'listTags', scope: 'page', page: 2 },
      },
      { level: 'info', message: 'ready', fields: { adapter: 'registry:gitea', scope: 'adapter' } },
    ]);
    expect(call.entries).toBe(root.entries);
  });

  it('clear forgets the entries of the whole tree', () => {
    const root = createMemoryLogger();
    const child = root.child({ a: 1 });
    child.info('x');
    root.info('y');
    child.clear();
    expect(root.entries).toEqual([]);
    child.warn('z');
    expect(root.entries).toEqual([{ level: 'warn', message: 'z', fields: { a: 1 } }]);
  });
});

describe('createRedactingLogger', () => {
  const token = 'ghp_s3cr3tT0ken';
  const password = 'hunter2-npm';

  const setup = (options: Parameters<typeof createRedactingLogger>[1] = { secrets: [token, password] }) => {
    const memory = createMemoryLogger();
    return { memory, logger: createRedactingLogger(memory, options) };
  };

  it('redacts known secret field names, ignoring case, dashes and underscores, also as suffixes', () => {
    const { memory, logger } = setup({});
    logger.info('auth', {
      token: 'a',
      Password: 'b',
      AUTHORIZATION: 'Bearer c',
      apiKey: 'd',
      api_key: 'e',
      'x-api-key': 'f',
      githubToken: 'g',
      NPM_PASSWORD: 'h',
      webhookSecret: 'i',
      clientSecret: 'j',
      privateKey: 'k',
      'set-cookie': 'l',
      credentials: { username: 'u', password: 'p' },
      user: 'alice',
      tokenUrl: 'https://auth.example.com/token',
      password_env: 'NPM_PASSWORD',
      secretOptions: ['token'],
    });
    expect(memory.entries[0]?.fields).toEqual({
      token: '[redacted]',
      Password: '[redacted]',
      AUTHORIZATION: '[redacted]',
      apiKey: '[redacted]',
      api_key: '[redacted]',
      'x-api-key': '[redacted]',
      githubToken: '[redacted]',
      NPM_PASSWORD: '[redacted]',
      webhookSecret: '[redacted]',
      clientSecret: '[redacted]',
      privateKey: '[redacted]',
      'set-cookie': '[redacted]',
      credentials: '[redacted]',
      user: 'alice',
      tokenUrl: 'https://auth.example.com/token',
      password_env: 'NPM_PASSWORD',
      secretOptions: ['token'],
    });
    expect(defaultSecretKeys).toContain('apiKey');
  });

  it('redacts the extra field names it is given', () => {
    const { memory, logger } = setup({ keys: ['Signature', 'hmac_key'] });
    logger.info('webhook', { signature: 'sha256=abc', HMAC_KEY: 'k', id: 7 });
    expect(memory.entries[0]?.fields).toEqual({ signature: '[redacted]', HMAC_KEY: '[redacted]', id: 7 });
  });

  it('redacts nested keys in objects and arrays without touching the caller’s fields', () => {
    const { memory, logger } = setup({});
    const fields = {
      registry: { id: 'registry:gitea', auth: { token: 'a', user: 'bot' } },
      headers: [{ name: 'accept' }, { authorization: 'Basic xyz' }],
    };
    logger.debug('request', fields);
    expect(memory.entries[0]?.fields).toEqual({
      registry: { id: 'registry:gitea', auth: { token: '[redacted]', user: 'bot' } },
      headers: [{ name: 'accept' }, { authorization: '[redacted]' }],
    });
    expect(fields.registry.auth.token).toBe('a');
  });

  it('keeps a secret-named field that has no value, which shows that it is missing', () => {
    const { memory, logger } = setup({});
    logger.warn('no credentials', { token: undefined, password: null });
    expect(memory.entries[0]?.fields).toEqual({ token: undefined, password: null });
  });

  it('masks registered secret values in messages and in any string field, at any depth', () => {
    const { memory, logger } = setup();
    logger.error(`login with ${token} failed for ${password}`, {
      value: token,
      url: `https://bot:${password}@git.example.com/v2/`,
      nested: { list: [`Bearer ${token}`, 'plain'] },
      href: new URL(`https://git.example.com/api?access=${token}`),
      count: 3,
    });
    expect(memory.entries[0]).toEqual({
      level: 'error',
      message: 'login with [redacted] failed for [redacted]',
      fields: {
        value: '[redacted]',
        url: 'https://bot:[redacted]@git.example.com/v2/',
        nested: { list: ['Bearer [redacted]', 'plain'] },
        href: 'https://git.example.com/api?access=[redacted]',
        count: 3,
      },
    });
  });

  it('masks the longer of two overlapping secrets whole, and ignores an empty secret', () => {
    const { memory, logger } = setup({ secrets: ['abc', '', 'abcdef'] });
    logger.info('abcdef and abc and xyz');
    expect(memory.entries[0]?.message).toBe('[redacted] and [redacted] and xyz');
  });

  it('keeps redacting in children and children of children, including their own fields', () => {
    const { memory, logger } = setup();
    const child = logger.child({ adapter: 'registry:gitea', token });
    const grandchild = child.child({ note: `uses ${password}`, npm: { password: 'x' } });
    grandchild.info(`sent ${token}`, { auth: { apiKey: 'k' } });
    expect(memory.entries).toEqual([
      {
        level: 'info',
        message: 'sent [redacted]',
        fields: {
          adapter: 'registry:gitea',
          token: '[redacted]',
          note: 'uses [redacted]',
          npm: { password: '[redacted]' },
          auth: { apiKey: '[redacted]' },
        },
      },
    ]);
  });

  it('flattens errors so that their messages, stacks and details are redacted too', () => {
    const { memory, logger } = setup();
    const plain = new Error(`401 for ${token}`);
    const core = new CoreError('UNAUTHORIZED', 'rejected', { details: { status: 401, token: 'x' } });
    logger.error('failed', { error: plain, cause: core });
    const fields = memory.entries[0]?.fields as Record<string, Record<string, unknown>>;
    expect(fields.error).toMatchObject({ name: 'Error', message: '401 for [redacted]' });
    expect(fields.error?.stack).toContain('401 for [redacted]');
    expect(String(fields.error?.stack)).not.toContain(token);
    expect(fields.cause).toMatchObject({
      name: 'CoreError',
      code: 'UNAUTHORIZED',
      message: 'rejected',
      retryable: false,
      details: { status: 401, token: '[redacted]' },
    });
  });

  it('stops at circular references but keeps an object that merely appears twice', () => {
    const { memory, logger } = setup();
    const shared = { id: 1 };
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    logger.info('graph', { loop, a: shared, b: shared });
    expect(memory.entries[0]?.fields).toEqual({
      loop: { name: 'loop', self: '[circular]' },
      a: { id: 1 },
      b: { id: 1 },
    });
  });

  it('passes non-plain values such as dates through as they are', () => {
    const { memory, logger } = setup();
    const when = new Date('2026-01-02T03:04:05Z');
    logger.info('at', { when, big: 10n, flag: true });
    expect(memory.entries[0]?.fields).toEqual({ when, big: 10n, flag: true });
    expect(memory.entries[0]?.fields.when).toBe(when);
  });
});
