export type { FailOptions, Faults } from './faults.ts';
export * from './memory-deploy-target.ts';
export * from './memory-notifier.ts';
export * from './memory-registry.ts';
export * from './memory-reverse-proxy.ts';
export * from './memory-state-store.ts';
