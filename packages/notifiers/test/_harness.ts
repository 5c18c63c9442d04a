// Shared by the channel tests: decoding what a fake received back into notifications, and the
// table-driven checks every channel runs against its service's documented answers.
import {
  describeNotification,
  isCoreError,
  type NotifiableEventName,
  type NotificationEvent,
  type Notifier,
} from '@docker-watcher/core';
import {
  type NotifierHarness,
  type ReceivedNotification,
  sampleNotificationEvents,
} from '@docker-watcher/core/testing';
import type { ChatServiceFake, FakeRequest, Scripted } from '@docker-watcher/testkit/notify';
import { expect } from 'vitest';

/** A project name the kit's cases use, found in a title. */
const projectPattern = /conformance-[0-9a-f]{8}/;

/** What a title says: the event type whose default title it is, or `digest`. */
export function notificationOfTitle(title: string): ReceivedNotification {
  if (title.startsWith('Docker Watcher:')) return { type: 'digest' };
  const project = projectPattern.exec(title)?.[0];
  if (project === undefined) return { type: `unknown: ${title}` };
  const event = sampleNotificationEvents(project).find(
    (sample) => describeNotification(sample).title === title,
  );
  if (event === undefined) return { type: `unknown: ${title}` };
  return { type: event.type, ...('project' in event ? { project: event.project, stage: event.stage } : {}) };
}

/** A conformance harness over a fake: `titleOf` reads a message's title from the request the service got. */
export function fakeHarness<Name extends string>(params: {
  readonly fake: ChatServiceFake<Name>;
  readonly create: (events?: readonly NotifiableEventName[]) => Notifier;
  readonly titleOf: (request: FakeRequest) => string;
  readonly outage: Scripted<Name>;
  readonly close?: () => Promise<void>;
}): NotifierHarness {
  const extra: Notifier[] = [];
  return {
    notifier: params.create(),
    received: () => params.fake.messages.map((request) => notificationOfTitle(params.titleOf(request))),
    breakBackend: () => params.fake.breakWith(params.outage),
    filtered: (events) => {
      const notifier = params.create(events);
      extra.push(notifier);
      return notifier;
    },
    dispose: async () => {
      await Promise.all(extra.map((notifier) => notifier.dispose()));
      await (params.close ?? (() => params.fake.close()))();
    },
  };
}

/** The kit's sample event of a type. */
export function sample(type: NotifiableEventName, project = 'web'): NotificationEvent {
  const event = sampleNotificationEvents(project, 'prod').find((candidate) => candidate.type === type);
  if (!event) throw new Error(`no sample ${type}`);
  return event;
}

/** An event whose every text is far longer than any service allows. */
export function hugeEvent(): NotificationEvent {
  const long = 'x'.repeat(20_000);
  return {
    type: 'deploy:failed',
    at: new Date().toISOString(),
    deployId: `deploy-${'d'.repeat(300)}`,
    project: `project-${'p'.repeat(400)}`,
    stage: `stage-${'s'.repeat(300)}`,
    release: { tag: `v1-${'t'.repeat(300)}`, digest: `sha256:${'a'.repeat(64)}` },
    previous: { tag: `v0-${'t'.repeat(300)}`, digest: `sha256:${'b'.repeat(64)}` },
    durationMs: 1234,
    error: { code: 'TIMEOUT', message: `health gate timed out: ${long}`, retryable: true, details: {} },
  };
}

export interface ExpectedFailure {
  readonly code: string;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
}

/** Each scripted answer makes `notify` throw the expected `CoreError`, and the service keeps nothing. */
export async function expectAnswers<Name extends string>(
  fake: ChatServiceFake<Name>,
  notifier: Notifier,
  table: ReadonlyArray<readonly [Scripted<Name>, ExpectedFailure]>,
  secrets: readonly string[] = [],
): Promise<void> {
  for (const [answer, expected] of table) {
    const kept = fake.messages.length;
    fake.script(answer);
    const error = await notifier.notify({ event: sample('deploy:failed') }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    const label = typeof answer === 'string' ? answer : JSON.stringify(answer);
    if (!isCoreError(error)) throw new Error(`${label}: expected a CoreError, got ${String(error)}`);
    expect({
      answer: label,
      code: error.code,
      retryable: error.retryable,
      retryAfterMs: error.retryAfterMs,
    }).toEqual({
      answer: label,
      ...expected,
      retryAfterMs: expected.retryAfterMs,
    });
    expect(fake.messages.length).toBe(kept);
    const text = JSON.stringify({ message: error.message, json: error.toJSON() });
    for (const secret of secrets) expect(text).not.toContain(secret);
  }
}

/** The request at `index` of a fake's list, parsed body included; fails the test when there is none. */
export function nth(requests: readonly FakeRequest[], index = 0): FakeRequest {
  const request = requests[index];
  if (request === undefined) throw new Error(`no request ${index} (${requests.length} received)`);
  return request;
}
