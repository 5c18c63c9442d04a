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
