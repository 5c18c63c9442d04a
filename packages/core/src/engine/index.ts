// The engine's public part: `createEngine`, its configuration types, the deploy state table and
// the stage settings adapters read. The runner, `decide()` and the history bookkeeping are internal.
export { defaultDeployRetryBaseMs, maxRetryPauseMs, type StageDecision } from './decide/decide.ts';
export { parseUpdateWindow, type UpdateWindow, updateWindowAt } from './decide/update-window.ts';
export {
  type DeployStrategy,
  defaultDrainMs,
  defaultHealthCheck,
  defaultStepDeadlines,
  type StageDeploySettings,
  type StepDeadlines,
} from './deploy-settings.ts';
export * from './deploy-states.ts';
export { createEngine, type Engine, type EngineOptions } from './engine.ts';
export type { EngineProject, EngineRegistries, EngineStage, StageDeployInput } from './engine-config.ts';
export type { LeftoverStatus } from './leftovers.ts';
export type { StageTargets } from './stage-targets.ts';
export { withDeadline } from './step-deadline.ts';
