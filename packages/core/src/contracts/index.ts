export * from './adapter.ts';
export * from './deploy-target.ts';
export * from './notifier.ts';
export * from './registry.ts';
export * from './release.ts';
export * from './reverse-proxy.ts';
export * from './route-check.ts';
export * from './state-store.ts';
