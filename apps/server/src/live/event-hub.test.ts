import { createEventBus, type DockerWatcherEvent, silentLogger } from '@docker-watcher/core';
import { afterEach, describe, expect, it } from 'vitest';
import { EventHub, type EventHubOptions } from './event-hub.ts';
import { memoryJournal } from './event-journal.ts';

const hubs: EventHub[] = [];
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((hub) => hub.close()));
});

function make(options: Partial<EventHubOptions> = {}) {
  const bus = createEventBus();
  const journal = options.journal ?? memoryJournal();
  const hub = new EventHub({ bus, journal, logger: silentLogger, heartbeatMs: 60_000, ...options });
  hubs.push(hub);
  return { bus, hub, journal };
}

const error = (n: number, size = 100): DockerWatcherEvent => ({
  type: 'adapter:error',
  at: new Date().toISOString(),
  adapterId: 'registry:oci/main',
  operation: 'listTags',
  error: { code: 'UNAVAILABLE', message: `failure ${n} ${'x'.repeat(size)}`, retryable: true, details: {} },
});

/** Reads a stream's frames until `until` holds (or 2 s pass). */
async function frames(
  stream: ReadableStream<Uint8Array>,
  until: (seen: string[]) => boolean,
  waitMs = 2_000,
) {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const deadline = Date.now() + waitMs;
  const seen = () =>
    text.split('\n\n').filter((frame) => frame.startsWith('id:') || frame.startsWith('event:'));
  // One read in flight at a time, kept across the 50 ms ticks: a read abandoned to a tick would
  // take its chunk with it (the stream hands each chunk to one read).
  let pending: ReturnType<typeof reader.read> | undefined;
  while (!until(seen()) && Date.now() < deadline) {
    pending ??= reader.read();
    const chunk = await Promise.race([
      pending,
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 50)),
    ]);
    if (!chunk) continue;
    pending = undefined;
    if (chunk.done) break;
    text += decoder.decode(chunk.value, { stream: true });
  }
  if (pending) await reader.cancel().catch(() => undefined);
  reader.releaseLock();
  return seen();
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('EventHub', () => {
  it('sends each event with its feed number and type, never log lines', async () => {
    const { bus, hub } = make();
    const stream = await hub.subscribe();
    bus.emit(error(1));
    bus.emit({
      type: 'deploy:log',
      at: '',
      deployId: 'd',
      project: 'p',
      stage: 's',
      level: 'info',
      line: 'x',
    });
    bus.emit({ type: 'engine:leadership', at: 'now', holder: 'a', leader: true });
    const seen = await frames(stream, (f) => f.length >= 2);
    expect(seen.map((frame) => frame.split('\n').slice(0, 2).join(' '))).toEqual([
      'id: 1 event: adapter:error',
      'id: 2 event: engine:leadership',
    ]);
    expect(seen[1]).toContain('data: {"type":"engine:leadership","at":"now","holder":"a","leader":true}');
  });

  it('resumes after Last-Event-ID from its ring, and says reset when the id is older than the ring', async () => {
    const { bus, hub } = make({ ringSize: 3 });
    for (let n = 1; n <= 5; n++) bus.emit(error(n));
    await settle();
    expect(hub.lastEventId).toBe(5);
    const resumed = await frames(await hub.subscribe({ lastEventId: 3 }), (f) => f.length >= 2);
    expect(resumed.map((frame) => frame.split('\n')[0])).toEqual(['id: 4', 'id: 5']);
    const old = await frames(await hub.subscribe({ lastEventId: 1 }), (f) => f.length >= 1);
    expect(old).toEqual([
      'event: reset\ndata: {"reason":"Last-Event-ID 1 is older than the events this server keeps","lastEventId":5}',
    ]);
    // Up to date: nothing is replayed, nothing is reset.
    const current = await frames(await hub.subscribe({ lastEventId: 5 }), () => false, 200);
    expect(current).toEqual([]);
  });

  it('filters by type', async () => {
    const { bus, hub } = make();
    const stream = await hub.subscribe({ types: new Set(['engine:leadership']) });
    bus.emit(error(1));
    bus.emit({ type: 'engine:leadership', at: 'now', holder: 'a', leader: false });
    const seen = await frames(stream, (f) => f.length >= 1);
    expect(seen.map((frame) => frame.split('\n')[1])).toEqual(['event: engine:leadership']);
  });

  it('starts from the journal it finds: a restarted server resumes clients from the shared feed', async () => {
    const journal = memoryJournal();
    await journal.append([error(1), error(2), error(3)]);
    const { hub } = make({ journal });
    const resumed = await frames(await hub.subscribe({ lastEventId: 1 }), (f) => f.length >= 2);
    expect(resumed.map((frame) => frame.split('\n')[0])).toEqual(['id: 2', 'id: 3']);
  });

  it('delivers what another writer appended to a shared journal', async () => {
    const shared = { ...memoryJournal(), shared: true };
    const { hub } = make({ journal: shared, pollMs: 10 });
    const stream = await hub.subscribe();
    await shared.append([error(7)]);
    const seen = await frames(stream, (f) => f.length >= 1);
    expect(seen[0]).toMatch(/^id: 1\nevent: adapter:error\ndata: .*failure 7/);
  });

  it('drops 200 clients that never read, holding at most their buffers, and keeps serving a reader', async () => {
    const limit = 16 * 1024;
    const { bus, hub } = make({ clientBufferBytes: limit });
    const stalled = await Promise.all(Array.from({ length: 200 }, () => hub.subscribe()));
    const reader = await hub.subscribe();
    const reading = frames(reader, (f) => f.length >= 400, 20_000);
    let worst = 0;
    for (let n = 1; n <= 400; n++) {
      bus.emit(error(n, 1_000));
      // Bursts smaller than a buffer: the reader keeps up.
      if (n % 5 === 0) {
        await settle();
        worst = Math.max(worst, hub.stats().queuedBytes);
      }
    }
    await settle();
    const stats = hub.stats();
    // 400 events of about 1.2 kB are about 480 kB per client: without a bound 200 clients would hold 96 MB.
    expect(worst).toBeLessThanOrEqual(201 * limit);
    expect(stats.dropped).toBe(200);
    expect(stats.subscribers).toBe(1);
    expect((await reading).length).toBe(400);
    for (const stream of stalled) await expect(stream.getReader().read()).rejects.toThrow(/too slowly/);
  });
});
