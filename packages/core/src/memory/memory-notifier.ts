import * as v from 'valibot';
import { type AdapterContext, adapterId, instantiate, onceDisposer } from '../contracts/adapter.ts';
import {
  defineNotifier,
  type NotifiableEventName,
  type NotificationDigest,
  type NotificationEvent,
  type Notifier,
  notifiableEvents,
} from '../contracts/notifier.ts';
import { FaultInjector, type Faults } from './faults.ts';

export const memoryNotifierOptions = v.strictObject({
  events: v.optional(
    v.pipe(
      v.array(v.picklist(notifiableEvents)),
      v.description('Events to deliver; every notifiable event when absent.'),
    ),
  ),
});

export type MemoryNotifierOptions = v.InferInput<typeof memoryNotifierOptions>;

export type MemoryNotifierOperation = 'notify' | 'notifyDigest';

export interface MemoryNotifier extends Notifier {
  readonly faults: Faults<MemoryNotifierOperation>;
  /** Events delivered so far, oldest first (events outside `events` are not delivered). */
  readonly delivered: readonly NotificationEvent[];
  /** Digests delivered so far, oldest first, with only the events the filter lets through. */
  readonly digests: readonly NotificationDigest[];
  /** Forgets the delivered events and digests. */
  clear(): void;
  notifyDigest(params: { readonly digest: NotificationDigest; readonly signal?: AbortSignal }): Promise<void>;
}

function buildMemoryNotifier(
  options: v.InferOutput<typeof memoryNotifierOptions>,
  context: AdapterContext,
): MemoryNotifier {
  const id = adapterId('notifier', 'memory', context.instance);
  const delivered: NotificationEvent[] = [];
  const digests: NotificationDigest[] = [];
  const lifecycle = onceDisposer(async () => {});
  const faults = new FaultInjector<MemoryNotifierOperation>(id, lifecycle.disposed);
  const wanted: readonly NotifiableEventName[] | undefined = options.events
    ? [...new Set(options.events)]
    : undefined;

  return {
    id,
    ...(wanted ? { events: wanted } : {}),
    faults,
    get delivered() {
      return structuredClone(delivered);
    },
    get digests() {
      return structuredClone(digests);
    },
    clear() {
      delivered.length = 0;
      digests.length = 0;
    },
    notify: ({ event, signal }) =>
      faults.run('notify', signal, () => {
        if (wanted && !wanted.includes(event.type)) return;
        delivered.push(structuredClone(event));
      }),
    notifyDigest: ({ digest, signal }) =>
      faults.run('notifyDigest', signal, () => {
        const events = digest.events.filter((event) => !wanted || wanted.includes(event.type));
        if (events.length === 0 && digest.dropped === undefined) return;
        digests.push(structuredClone({ ...digest, events }));
      }),
    dispose: lifecycle.dispose,
  };
}

export const memoryNotifier = defineNotifier({
  name: 'memory',
  options: memoryNotifierOptions,
  secrets: [],
  create: buildMemoryNotifier,
});

/** A notifier that keeps what it is told, for SDK scripts and tests. */
export function createMemoryNotifier(
  options: MemoryNotifierOptions = {},
  context: AdapterContext = {},
): MemoryNotifier {
  return instantiate(memoryNotifier, options, context);
}
