import {
  type NotifiableEventName,
  type NotificationEvent,
  type Notifier,
  notifiableEvents,
} from '../contracts/notifier.ts';
import { abortedSignal, check, checkAdapterId, defined, expectCoreError, same } from './assertions.ts';
import {
  type CaseResult,
  type ConformanceSuite,
  caseTable,
  disposeIsIdempotentCase,
  type HarnessBase,
  runCase,
} from './suite.ts';

/** One delivery as the harness decodes it from its backend; `project` and `stage` when the message carries them. */
export interface ReceivedNotification {
  readonly type: string;
  readonly project?: string;
  readonly stage?: string;
}

export interface NotifierHarness extends HarnessBase {
  /** A notifier that wants every notifiable event. */
  readonly notifier: Notifier;
  /** What the backend has received so far, oldest first. */
  received(): readonly ReceivedNotification[] | Promise<readonly ReceivedNotification[]>;
  /** From now on the backend fails like a temporarily unavailable service (5xx, refused connection). */
  breakBackend(): void | Promise<void>;
  /** Another notifier on the same backend configured to want only `events`; enables `notify-honours-event-filter`. */
  filtered?(events: readonly NotifiableEventName[]): Notifier | Promise<Notifier>;
}

export type NotifierCaseId =
  | 'id-names-kind-and-backend'
  | 'events-are-notifiable'
  | 'notify-delivers-every-event-type'
  | 'notify-honours-event-filter'
  | 'delivery-failure-is-retryable-core-error'
  | 'aborted-signal-aborts'
  | 'dispose-is-idempotent';

/** One event of each notifiable type, for a project of its own. */
export function sampleNotificationEvents(project: string, stage = 'dev'): NotificationEvent[] {
  const at = new Date().toISOString();
  const release = { tag: 'v1.2.3', digest: `sha256:${'a'.repeat(64)}` };
  const previous = { tag: 'v1.2.2', digest: `sha256:${'b'.repeat(64)}` };
  const deploy = { at, project, stage, deployId: `deploy-${project}` };
  return [
    { type: 'deploy:succeeded', ...deploy, release, previous, durationMs: 1_840 },
    {
      type: 'deploy:failed',
      ...deploy,
      release,
      error: { code: 'TIMEOUT', message: 'health gate timed out', retryable: true, details: {} },
    },
    { type: 'deploy:rolled-back', ...deploy, release, restored: previous, reason: 'health gate failed' },
    {
      type: 'deploy:awaiting-confirmation',
      at,
      project,
      stage,
      release,
      approvalId: `approval-${project}`,
      current: previous,
    },
  ];
}

function eventOf(project: string, type: NotifiableEventName): NotificationEvent {
  return defined(
    sampleNotificationEvents(project).find((event) => event.type === type),
    `sample event ${type}`,
  );
}

async function receivedBy(harness: NotifierHarness, project: string): Promise<ReceivedNotification[]> {
  return (await harness.received()).filter((item) => item.project === undefined || item.project === project);
}

export const notifierCases = caseTable<NotifierHarness, NotifierCaseId>({
  'id-names-kind-and-backend': {
    title: 'id is notifier:<name>',
    run: async ({ harness }) => checkAdapterId(harness.notifier.id, 'notifier'),
  },
  'events-are-notifiable': {
    title: 'events, when declared, names notifiable events only',
    run: async ({ harness }) => {
      const { events } = harness.notifier;
      if (events === undefined) return;
      check(Array.isArray(events), 'events: expected an array');
      for (const name of events) {
        check(
          (notifiableEvents as readonly string[]).includes(name),
          `events: ${name} is not a notifiable event`,
        );
      }
    },
  },
  'notify-delivers-every-event-type': {
    title: 'notify delivers each notifiable event, in order',
    run: async ({ harness, unique }) => {
      const project = `conformance-${unique}`;
      const events = sampleNotificationEvents(project);
      for (const event of events) await harness.notifier.notify({ event });
      const received = await receivedBy(harness, project);
      same(
        received.map((item) => item.type),
        events.map((event) => event.type),
        'types received by the backend',
      );
      for (const item of received) {
        if (item.stage !== undefined) same(item.stage, 'dev', `stage of the ${item.type} notification`);
      }
    },
  },
  'notify-honours-event-filter': {
    title: 'a notifier configured for some events delivers only those',
    gate: { claim: 'harness.filtered()', when: true, claimed: (harness) => harness.filtered !== undefined },
    run: async (context) => {
      const { harness, unique } = context;
      const create = defined(harness.filtered, 'harness.filtered').bind(harness);
      const notifier = await create(['deploy:failed']);
      context.defer(() => notifier.dispose());
      same(notifier.events, ['deploy:failed'], 'events of a notifier configured for deploy:failed');
      const project = `conformance-${unique}`;
      await notifier.notify({ event: eventOf(project, 'deploy:succeeded') });
      await notifier.notify({ event: eventOf(project, 'deploy:failed') });
      same(
        (await receivedBy(harness, project)).map((item) => item.type),
        ['deploy:failed'],
        'types received through a notifier filtered to deploy:failed',
      );
    },
  },
  'delivery-failure-is-retryable-core-error': {
    title: 'a failing backend makes notify throw a retryable CoreError',
    run: async ({ harness, unique }) => {
      await harness.breakBackend();
      const error = await expectCoreError(
        harness.notifier.notify({ event: eventOf(`conformance-${unique}`, 'deploy:failed') }),
        ['UNAVAILABLE', 'TIMEOUT', 'RATE_LIMITED'],
        'notify to a failing backend',
      );
      check(error.retryable, `notify to a failing backend threw ${error.code}, which is not retryable`);
    },
  },
  'aborted-signal-aborts': {
    title: 'an aborted signal makes notify throw ABORTED and deliver nothing',
    run: async ({ harness, unique }) => {
      const project = `conformance-${unique}`;
      await expectCoreError(
        harness.notifier.notify({ event: eventOf(project, 'deploy:succeeded'), signal: abortedSignal() }),
        'ABORTED',
        'notify',
      );
      same(await receivedBy(harness, project), [], 'deliveries after an aborted notify');
    },
  },
  'dispose-is-idempotent': disposeIsIdempotentCase((harness) => harness.notifier),
});

export const notifierSuite: ConformanceSuite<NotifierHarness, NotifierCaseId> = {
  contract: 'Notifier',
  cases: notifierCases,
  subject: (harness) => harness.notifier,
};

/** Runs one Notifier case without vitest; failures come back as results. */
export function runNotifierCase(
  id: NotifierCaseId,
  create: () => NotifierHarness | Promise<NotifierHarness>,
): Promise<CaseResult<NotifierCaseId>> {
  return runCase(notifierSuite, id, create);
}
