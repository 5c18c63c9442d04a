// One deploy through the engine's runner, without an engine: how target tests and benches drive a
// real target through the whole flow (pull, start, health gate, switch, retire). Outside the main
// entry: applications deploy through createEngine, and the runner's dependencies follow the engine.
export { type DeployRunnerDeps, runDeploy } from '../engine/deploy-runner.ts';
export {
  abortedSignal,
  check,
  checkAdapterId,
  checkFlags,
  defined,
  expectCoreError,
  pollUntil,
  same,
  sleep,
} from './assertions.ts';
export * from './backup-fixture.ts';
export * from './deploy-target-suite.ts';
export * from './notifier-suite.ts';
export * from './registry-suite.ts';
export * from './reverse-proxy-suite.ts';
export * from './state-store-suite.ts';
export * from './suite.ts';
