// The parts of Nomad's API shapes this target reads. Loose objects: Nomad adds fields every release,
// and a job read here is sent back whole on register, so unknown fields must survive.
import * as v from 'valibot';

const stringMap = v.nullish(v.record(v.string(), v.string()));
const count = v.nullish(v.number());

export const updateStrategySchema = v.looseObject({
  MaxParallel: count,
  Canary: count,
  AutoRevert: v.nullish(v.boolean()),
  AutoPromote: v.nullish(v.boolean()),
});

export const taskSchema = v.looseObject({
  Name: v.string(),
  Driver: v.nullish(v.string()),
  Config: v.nullish(v.record(v.string(), v.unknown())),
  Env: stringMap,
  Meta: stringMap,
});

export const taskGroupSchema = v.looseObject({
  Name: v.string(),
  Count: count,
  Tasks: v.nullish(v.array(taskSchema)),
  Update: v.nullish(updateStrategySchema),
  Meta: stringMap,
});

export const jobSchema = v.looseObject({
  ID: v.string(),
  Namespace: v.nullish(v.string()),
  Type: v.nullish(v.string()),
  Version: v.number(),
  JobModifyIndex: v.number(),
  Stable: v.nullish(v.boolean()),
  Stop: v.nullish(v.boolean()),
  Status: v.nullish(v.string()),
  Meta: stringMap,
  TaskGroups: v.nullish(v.array(taskGroupSchema)),
});

export type NomadJob = v.InferOutput<typeof jobSchema>;
export type NomadTaskGroup = v.InferOutput<typeof taskGroupSchema>;
export type NomadTask = v.InferOutput<typeof taskSchema>;

export const jobVersionsSchema = v.looseObject({
  Versions: v.nullish(v.array(jobSchema)),
});

export const jobStubSchema = v.looseObject({
  ID: v.string(),
  Type: v.nullish(v.string()),
  Meta: v.optional(stringMap),
});

export const jobStubsSchema = v.array(jobStubSchema);

export const deploymentStateSchema = v.looseObject({
  AutoRevert: v.nullish(v.boolean()),
  AutoPromote: v.nullish(v.boolean()),
  Promoted: v.nullish(v.boolean()),
  DesiredCanaries: count,
  DesiredTotal: count,
  PlacedCanaries: v.nullish(v.array(v.string())),
  PlacedAllocs: count,
  HealthyAllocs: count,
  UnhealthyAllocs: count,
});

export const deploymentSchema = v.looseObject({
  ID: v.string(),
  JobID: v.string(),
  JobVersion: v.number(),
  Status: v.string(),
  StatusDescription: v.nullish(v.string()),
  TaskGroups: v.nullish(v.record(v.string(), deploymentStateSchema)),
  CreateIndex: v.nullish(v.number()),
});

export type NomadDeployment = v.InferOutput<typeof deploymentSchema>;
export type NomadDeploymentState = v.InferOutput<typeof deploymentStateSchema>;

export const latestDeploymentSchema = v.nullable(deploymentSchema);
export const deploymentsSchema = v.array(deploymentSchema);

export const allocationMetricSchema = v.looseObject({
  NodesEvaluated: count,
  NodesFiltered: count,
  NodesExhausted: count,
  CoalescedFailures: count,
  DimensionExhausted: v.nullish(v.record(v.string(), v.number())),
  ConstraintFiltered: v.nullish(v.record(v.string(), v.number())),
  ClassExhausted: v.nullish(v.record(v.string(), v.number())),
  QuotaExhausted: v.nullish(v.array(v.string())),
});

export type NomadAllocationMetric = v.InferOutput<typeof allocationMetricSchema>;

export const evaluationSchema = v.looseObject({
  ID: v.string(),
  Status: v.string(),
  StatusDescription: v.nullish(v.string()),
  DeploymentID: v.nullish(v.string()),
  BlockedEval: v.nullish(v.string()),
  FailedTGAllocs: v.nullish(v.record(v.string(), allocationMetricSchema)),
});

export type NomadEvaluation = v.InferOutput<typeof evaluationSchema>;

const taskEventSchema = v.looseObject({
  Type: v.nullish(v.string()),
  DisplayMessage: v.nullish(v.string()),
  Message: v.nullish(v.string()),
  DriverError: v.nullish(v.string()),
  ExitCode: count,
});

export const allocationSchema = v.looseObject({
  ID: v.string(),
  JobVersion: count,
  TaskGroup: v.nullish(v.string()),
  ClientStatus: v.string(),
  DesiredStatus: v.nullish(v.string()),
  DeploymentStatus: v.nullish(
    v.looseObject({ Healthy: v.nullish(v.boolean()), Canary: v.nullish(v.boolean()) }),
  ),
  TaskStates: v.nullish(
    v.record(
      v.string(),
      v.looseObject({
        State: v.nullish(v.string()),
        Failed: v.nullish(v.boolean()),
        Events: v.nullish(v.array(taskEventSchema)),
      }),
    ),
  ),
});

export type NomadAllocation = v.InferOutput<typeof allocationSchema>;
export const allocationsSchema = v.array(allocationSchema);

export const registerResponseSchema = v.looseObject({
  EvalID: v.nullish(v.string()),
  JobModifyIndex: v.nullish(v.number()),
  Warnings: v.nullish(v.string()),
});

export const deploymentUpdateResponseSchema = v.looseObject({
  EvalID: v.nullish(v.string()),
  RevertedJobVersion: v.nullish(v.number()),
});

const fieldDiffSchema = v.looseObject({
  Type: v.nullish(v.string()),
  Name: v.nullish(v.string()),
  Old: v.nullish(v.string()),
  New: v.nullish(v.string()),
});

export interface NomadObjectDiff {
  readonly Type?: string | null | undefined;
  readonly Name?: string | null | undefined;
  readonly Fields?: readonly unknown[] | null | undefined;
  readonly Objects?: readonly unknown[] | null | undefined;
}

export type NomadFieldDiff = v.InferOutput<typeof fieldDiffSchema>;
export const isFieldDiff = (value: unknown): value is NomadFieldDiff => v.is(fieldDiffSchema, value);

export const planResponseSchema = v.looseObject({
  Diff: v.nullish(
    v.looseObject({
      Type: v.nullish(v.string()),
      Fields: v.nullish(v.array(v.unknown())),
      Objects: v.nullish(v.array(v.unknown())),
      TaskGroups: v.nullish(
        v.array(
          v.looseObject({
            Type: v.nullish(v.string()),
            Name: v.nullish(v.string()),
            Fields: v.nullish(v.array(v.unknown())),
            Objects: v.nullish(v.array(v.unknown())),
            Tasks: v.nullish(v.array(v.unknown())),
            Updates: v.nullish(v.record(v.string(), v.number())),
          }),
        ),
      ),
    }),
  ),
  FailedTGAllocs: v.nullish(v.record(v.string(), allocationMetricSchema)),
  Warnings: v.nullish(v.string()),
  Annotations: v.nullish(
    v.looseObject({
      DesiredTGUpdates: v.nullish(v.record(v.string(), v.record(v.string(), v.number()))),
    }),
  ),
});

export type NomadPlanResponse = v.InferOutput<typeof planResponseSchema>;
