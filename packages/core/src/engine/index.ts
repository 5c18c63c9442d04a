export {
  type DecideInput,
  decide,
  defaultDeployRetryBaseMs,
  maxRetryPauseMs,
  type StageDecision,
} from './decide.ts';
export { type DeployRunnerDeps, runDeploy } from './deploy-runner.ts';
export {
  type DeployStrategy,
  defaultHealthCheck,
  defaultStepDeadlines,
  type StageDeploySettings,
  type StepDeadlines,
} from './deploy-settings.ts';
export * from './deploy-states.ts';
export { createEngine, type Engine, type EngineOptions } from './engine.ts';
export type { EngineProject, EngineRegistries, EngineStage, StageDeployInput } from './engine-config.ts';
export { recordSuccess, stageHistoryLimit } from './stage-history.ts';
export type { StageTargets } from './stage-targets.ts';
export { withDeadline } from './step-deadline.ts';
export { parseUpdateWindow, type UpdateWindow, updateWindowAt } from './update-window.ts';
