// The API's schemas and core's types describe the same records: a change to either that the other
// lacks fails the typecheck here; the stream carries every core event but log lines.
import type {
  Approval,
  AuditEvent,
  DeployRecord,
  DeployState,
  DockerWatcherEvent,
  ErrorCode,
  LogLine,
  StageDecision,
} from '@docker-watcher/core';
import { eventNames } from '@docker-watcher/core';
import type * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { type StreamEvent, streamEventTypes } from './events.ts';
import type {
  approvalSchema,
  auditEventSchema,
  decisionSchema,
  deploySchema,
  deployStateSchema,
  errorCodeSchema,
  logLineSchema,
} from './schemas.ts';

/** `true` when each type is assignable to the other. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

const sameShapes: [
  Same<v.InferOutput<typeof deploySchema>, Omit<DeployRecord, 'data'>>,
  Same<v.InferOutput<typeof approvalSchema>, Approval>,
  Same<v.InferOutput<typeof auditEventSchema>, AuditEvent>,
  Same<v.InferOutput<typeof logLineSchema>, LogLine>,
  Same<v.InferOutput<typeof deployStateSchema>, DeployState>,
  Same<v.InferOutput<typeof decisionSchema>, StageDecision>,
  Same<StreamEvent, Exclude<DockerWatcherEvent, { type: 'deploy:log' }>>,
  Same<v.InferOutput<typeof errorCodeSchema>, ErrorCode>,
] = [true, true, true, true, true, true, true, true];

describe('API schemas', () => {
  it('have the shapes of core records (checked by the typecheck)', () => {
    expect(sameShapes.every(Boolean)).toBe(true);
  });

  it('stream every core event but log lines', () => {
    expect([...streamEventTypes].sort()).toEqual(eventNames.filter((name) => name !== 'deploy:log').sort());
  });
});
