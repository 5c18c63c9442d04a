// Engine events as `GET /api/events` streams them (their shapes are core's `events.ts`).
import type { Release } from './types.ts';

interface Base<T extends string> {
  readonly type: T;
  readonly at: string;
}

interface DeployBase<T extends string> extends Base<T> {
  readonly deployId: string;
  readonly project: string;
  readonly stage: string;
}

export type DwEvent =
  | (DeployBase<'deploy:queued'> & { readonly release: Release; readonly trigger: string })
  | (DeployBase<'deploy:started'> & {
      readonly release: Release;
      readonly previous?: Release;
      readonly trigger: string;
      readonly by?: string;
    })
  | (DeployBase<'deploy:state-changed'> & { readonly from: string; readonly to: string })
  | (DeployBase<'deploy:health-checked'> & {
      readonly attempt: number;
      readonly healthy: boolean;
      readonly status?: number;
      readonly error?: string;
      readonly failures: number;
      readonly deadline: string;
    })
  | (DeployBase<'deploy:succeeded'> & { readonly release: Release; readonly previous?: Release })
  | (DeployBase<'deploy:failed'> & {
      readonly release: Release;
      readonly error: { readonly code: string; readonly message: string };
    })
  | (DeployBase<'deploy:rolled-back'> & {
      readonly release: Release;
      readonly restored?: Release;
      readonly reason: string;
    })
  | (Base<'deploy:awaiting-confirmation'> & {
      readonly project: string;
      readonly stage: string;
      readonly release: Release;
      readonly approvalId: string;
      readonly current?: Release;
    })
  | (Base<'release:available'> & {
      readonly project: string;
      readonly stage: string;
      readonly release: Release;
      readonly reason: string;
    })
  | (Base<'approval:decided'> & {
      readonly project: string;
      readonly stage: string;
      readonly approvalId: string;
      readonly release: Release;
      readonly status: 'approved' | 'rejected';
      readonly by: string;
      readonly comment?: string;
      readonly deployId?: string;
    })
  | (Base<'stage:updated'> & {
      readonly project: string;
      readonly stage: string;
      readonly change: string;
      readonly autoDeploy: boolean;
      readonly pin?: string;
      readonly by?: string;
    })
  | (Base<'release:selected'> & { readonly project: string; readonly stage: string; readonly reason: string })
  | (Base<'registry:observed'> & {
      readonly registryId: string;
      readonly repository: string;
      readonly tag: string;
    })
  | (Base<'adapter:error'> & {
      readonly adapterId: string;
      readonly operation: string;
      readonly error: { readonly code: string; readonly message: string };
    })
  | (Base<'engine:leadership'> & { readonly holder: string; readonly leader: boolean });

export type DwEventType = DwEvent['type'];

export const streamedEventTypes: readonly DwEventType[] = [
  'deploy:queued',
  'deploy:started',
  'deploy:state-changed',
  'deploy:health-checked',
  'deploy:succeeded',
  'deploy:failed',
  'deploy:rolled-back',
  'deploy:awaiting-confirmation',
  'release:available',
  'approval:decided',
  'stage:updated',
  'release:selected',
  'registry:observed',
  'adapter:error',
  'engine:leadership',
];

const known = new Set<string>(streamedEventTypes);

/** An event from an SSE message's data, or `undefined` for anything else (a newer server's event). */
export function parseEvent(data: string): DwEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const type = (value as { type?: unknown }).type;
  return typeof type === 'string' && known.has(type) ? (value as DwEvent) : undefined;
}
