import { describe, expect, expectTypeOf, it } from 'vitest';
import { CoreError } from './errors.ts';
import {
  createEventBus,
  type DockerWatcherEvent,
  type EventName,
  type EventOf,
  eventNames,
  toEventError,
} from './events.ts';
import { createMemoryLogger, type Logger } from './logger.ts';

const at = '2026-01-02T03:04:05.000Z';
const release = { tag: 'v1.2.0', digest: 'sha256:aaaa' };
const deploy = { deployId: 'd-1', project: 'web-app', stage: 'rel' };

/** One payload of every event, with every optional field set. */
const samples: { [N in EventName]: EventOf<N> } = {
  'registry:observed': {
    type: 'registry:observed',
    at,
    registryId: 'registry:gitea',
    repository: 'team/web-app',
    tag: 'v1.2.0',
    digest: 'sha256:aaaa',
    source: 'webhook',
    eventId: 'delivery-7',
  },
  'release:selected': {
    type: 'release:selected',
    at,
    project: 'web-app',
    stage: 'rel',
    tag: 'v1.2.0',
    digest: 'sha256:aaaa',
    reason: 'newest tag matching v*',
  },
  'release:available': {
    type: 'release:available',
    at,
    project: 'web-app',
    stage: 'rel',
    release,
    current: { tag: 'v1.1.0', digest: 'sha256:bbbb' },
    reason: 'newest tag matching v*; rel deploys by hand',
  },
  'deploy:queued': { type: 'deploy:queued', at, ...deploy, release, trigger: 'manual', by: 'alice' },
  'deploy:started': {
    type: 'deploy:started',
    at,
    ...deploy,
    release,
    previous: { tag: 'v1.1.0', digest: 'sha256:bbbb' },
    trigger: 'manual',
    by: 'alice',
  },
  'deploy:state-changed': { type: 'deploy:state-changed', at, ...deploy, from: 'pulling', to: 'starting' },
  'deploy:log': { type: 'deploy:log', at, ...deploy, line: 'pulled sha256:aaaa', level: 'info' },
  'deploy:health-checked': {
    type: 'deploy:health-checked',
    at,
    ...deploy,
    attempt: 2,
    healthy: false,
    status: 503,
    error: 'HTTP 503',
    failures: 2,
    deadline: '2026-01-02T03:04:35.000Z',
  },
  'deploy:succeeded': {
    type: 'deploy:succeeded',
    at,
    ...deploy,
    release,
    previous: { tag: 'v1.1.0', digest: 'sha256:bbbb' },
    durationMs: 1_840,
  },
  'deploy:failed': {
    type: 'deploy:failed',
    at,
    ...deploy,
    release,
    previous: { tag: 'v1.1.0', digest: 'sha256:bbbb' },
    durationMs: 12_000,
    error: toEventError(new CoreError('TIMEOUT', 'health gate timed out', { details: { afterMs: 30_000 } })),
  },
  'deploy:rolled-back': {
    type: 'deploy:rolled-back',
    at,
    ...deploy,
    release,
    restored: { tag: 'v1.1.0', digest: 'sha256:bbbb' },
    durationMs: 31_000,
    reason: 'health gate failed',
  },
  'deploy:awaiting-confirmation': {
    type: 'deploy:awaiting-confirmation',
    at,
    project: 'web-app',
    stage: 'prod',
    release,
    approvalId: 'approval-1',
    current: { tag: 'v1.1.0', digest: 'sha256:bbbb' },
  },
  'approval:decided': {
    type: 'approval:decided',
    at,
    project: 'web-app',
    stage: 'prod',
    approvalId: 'approval-1',
    release,
    status: 'approved',
    by: 'alice',
    comment: 'checked on rel',
    deployId: 'd-2',
  },
  'stage:updated': {
    type: 'stage:updated',
    at,
    project: 'web-app',
    stage: 'prod',
    change: 'pin',
    autoDeploy: true,
    pin: 'v1.2.0',
    by: 'alice',
  },
  'adapter:error': {
    type: 'adapter:error',
    at,
    adapterId: 'registry:gitea',
    operation: 'listTags',
    error: toEventError(new CoreError('RATE_LIMITED', 'slow down', { details: { status: 429 } })),
  },
  'engine:leadership': { type: 'engine:leadership', at, holder: 'replica-a', leader: true },
  'labels:invalid': {
    type: 'labels:invalid',
    at,
    container: 'web',
    problems: [{ label: 'docker-watcher.auto-deploy', message: 'expected true or false, not "maybe"' }],
  },
};

const queued = samples['deploy:queued'];
const succeeded = samples['deploy:succeeded'];

describe('events', () => {
  it('lists every event name once, and each sample is named by its type', () => {
    expect([...eventNames].sort()).toEqual(Object.keys(samples).sort());
    for (const name of eventNames) expect(samples[name].type).toBe(name);
  });

  it.each(eventNames)('%s round-trips through JSON unchanged', (name) => {
    const event = samples[name];
    expect(JSON.parse(JSON.stringify(event))).toStrictEqual(event);
  });

  it('form one union discriminated by type', () => {
    expectTypeOf<EventOf<'deploy:failed'>>().toEqualTypeOf<
      Extract<DockerWatcherEvent, { type: 'deploy:failed' }>
    >();
    expectTypeOf<DockerWatcherEvent['type']>().toEqualTypeOf<EventName>();
    const summarise = (event: DockerWatcherEvent): string => {
      switch (event.type) {
        case 'deploy:failed':
          return event.error.code;
        case 'registry:observed':
          return event.source;
        default:
          return event.at;
      }
    };
    expect(summarise(samples['deploy:failed'])).toBe('TIMEOUT');
    expect(summarise(samples['registry:observed'])).toBe('webhook');
  });

  it('carry errors as CoreError JSON, also for errors that were not CoreErrors', () => {
    expect(toEventError(new Error('socket hang up'))).toEqual({
      code: 'INTERNAL',
      message: 'socket hang up',
      retryable: false,
      details: {},
    });
    expect(samples['adapter:error'].error).toEqual({
      code: 'RATE_LIMITED',
      message: 'slow down',
      retryable: true,
      details: { status: 429 },
    });
  });
});

describe('createEventBus', () => {
  it('delivers the payload to the listeners of its type only', () => {
    const bus = createEventBus();
    const seen: string[] = [];
    bus.on('deploy:queued', (event) => {
      expectTypeOf(event).toEqualTypeOf<EventOf<'deploy:queued'>>();
      seen.push(`queued ${event.release.tag}`);
    });
    bus.on('deploy:succeeded', (event) => seen.push(`succeeded ${event.deployId}`));
    bus.emit(queued);
    expect(seen).toEqual(['queued v1.2.0']);
    bus.emit(succeeded);
    expect(seen).toEqual(['queued v1.2.0', 'succeeded d-1']);
  });

  it('hands every listener the same payload object', () => {
    const bus = createEventBus();
    const received: DockerWatcherEvent[] = [];
    bus.on('deploy:queued', (event) => received.push(event));
    bus.onAny((event) => received.push(event));
    bus.emit(queued);
    expect(received).toHaveLength(2);
    for (const event of received) expect(event).toBe(queued);
  });

  it('calls a once listener for the next event only', () => {
    const bus = createEventBus();
    const seen: string[] = [];
    bus.once('deploy:queued', (event) => seen.push(event.deployId));
    bus.emit(queued);
    bus.emit({ ...queued, deployId: 'd-2' });
    expect(seen).toEqual(['d-1']);
  });

  it('off removes every registration of a listener for that name, and only for that name', () => {
    const bus = createEventBus();
    const seen: string[] = [];
    const listener = (event: DockerWatcherEvent) => seen.push(event.type);
    bus.on('deploy:queued', listener);
    bus.once('deploy:queued', listener);
    bus.on('deploy:succeeded', listener);
    bus.off('deploy:queued', listener);
    bus.emit(queued);
    bus.emit(succeeded);
    expect(seen).toEqual(['deploy:succeeded']);
  });

  it('the function returned by on or once removes that registration only', () => {
    const bus = createEventBus();
    const seen: string[] = [];
    const listener = (event: DockerWatcherEvent) => seen.push(event.type);
    const first = bus.on('deploy:queued', listener);
    bus.on('deploy:queued', listener);
    const pending = bus.once('deploy:succeeded', listener);
    first();
    first();
    pending();
    bus.emit(queued);
    bus.emit(succeeded);
    expect(seen).toEqual(['deploy:queued']);
  });

  it('onAny sees every event in order, after the listeners of its name, until unsubscribed', () => {
    const bus = createEventBus();
    const seen: string[] = [];
    bus.on('deploy:succeeded', () => seen.push('named'));
    const unsubscribe = bus.onAny((event) => seen.push(event.type));
    for (const name of eventNames) bus.emit(samples[name]);
    expect(seen).toEqual([
      'registry:observed',
      'release:selected',
      'release:available',
      'deploy:queued',
      'deploy:started',
      'deploy:state-changed',
      'deploy:log',
      'deploy:health-checked',
      'named',
      'deploy:succeeded',
      'deploy:failed',
      'deploy:rolled-back',
      'deploy:awaiting-confirmation',
      'approval:decided',
      'stage:updated',
      'adapter:error',
      'engine:leadership',
      'labels:invalid',
    ]);
    unsubscribe();
    unsubscribe();
    bus.emit(queued);
    expect(seen).toHaveLength(18);
  });

  it('a listener that unsubscribes another during emit does not disturb the current delivery', () => {
    const bus = createEventBus();
    const seen: string[] = [];
    let second: () => void = () => {};
    bus.onAny(() => {
      seen.push('first');
      second();
    });
    second = bus.onAny(() => seen.push('second'));
    bus.emit(queued);
    bus.emit(queued);
    expect(seen).toEqual(['first', 'second', 'first']);
  });

  it('survives a throwing listener: the others run, the failure is logged once with the event type', () => {
    const logger = createMemoryLogger();
    const bus = createEventBus({ logger });
    const seen: string[] = [];
    bus.on('deploy:queued', () => seen.push('before'));
    bus.on('deploy:queued', () => {
      throw new Error('listener bug');
    });
    bus.on('deploy:queued', () => seen.push('after'));
    bus.onAny(() => seen.push('any'));

    expect(() => bus.emit(queued)).not.toThrow();
    expect(seen).toEqual(['before', 'after', 'any']);
    expect(logger.entries).toHaveLength(1);
    expect(logger.entries[0]).toMatchObject({
      level: 'error',
      fields: { event: 'deploy:queued', error: { code: 'INTERNAL', message: 'listener bug' } },
    });
    expect(logger.entries[0]?.fields.stack).toContain('listener bug');

    bus.emit(queued);
    expect(seen).toEqual(['before', 'after', 'any', 'before', 'after', 'any']);
    expect(logger.entries).toHaveLength(2);
  });

  it('survives a throwing onAny or once listener, and keeps CoreError codes in the report', () => {
    const logger = createMemoryLogger();
    const bus = createEventBus({ logger });
    const seen: string[] = [];
    bus.once('deploy:succeeded', () => {
      throw new CoreError('CONFLICT', 'already recorded');
    });
    bus.onAny(() => {
      throw 'not even an Error';
    });
    bus.onAny((event) => seen.push(event.type));
    bus.emit(succeeded);
    bus.emit(succeeded);
    expect(seen).toEqual(['deploy:succeeded', 'deploy:succeeded']);
    expect(logger.entries.map((entry) => entry.fields.error)).toMatchObject([
      { code: 'CONFLICT', message: 'already recorded' },
      { code: 'INTERNAL', message: 'not even an Error' },
      { code: 'INTERNAL', message: 'not even an Error' },
    ]);
    expect(logger.entries.every((entry) => entry.fields.event === 'deploy:succeeded')).toBe(true);
  });

  it('reports an async listener whose promise rejects, instead of leaving an unhandled rejection', async () => {
    const logger = createMemoryLogger();
    const bus = createEventBus({ logger });
    bus.on('deploy:failed', async () => {
      throw new Error('notifier down');
    });
    bus.emit(samples['deploy:failed']);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(logger.entries).toHaveLength(1);
    expect(logger.entries[0]?.fields).toMatchObject({
      event: 'deploy:failed',
      error: { message: 'notifier down' },
    });
  });

  it('is silent by default and survives a logger that throws too', () => {
    const seen: string[] = [];
    const throwing = () => {
      throw new Error('boom');
    };
    const brokenLogger: Logger = {
      debug: throwing,
      info: throwing,
      warn: throwing,
      error: throwing,
      child: () => brokenLogger,
    };
    for (const bus of [createEventBus(), createEventBus({ logger: brokenLogger })]) {
      bus.on('deploy:queued', throwing);
      bus.on('deploy:queued', () => seen.push('ran'));
      expect(() => bus.emit(queued)).not.toThrow();
    }
    expect(seen).toEqual(['ran', 'ran']);
  });
});
