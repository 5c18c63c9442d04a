// The main entry: what SDK users and adapter authors build on. Everything exported here is semver
// surface, listed in `api/core.api.md` (a change shows in review). Store authors' helpers live at
// `@docker-watcher/core/store-kit`, the conformance kit at `@docker-watcher/core/testing`.
export * from './config.ts';
export * from './contracts/index.ts';
export * from './engine/index.ts';
export * from './errors.ts';
export * from './events.ts';
export * from './http/index.ts';
export * from './logger.ts';
export * from './memory/index.ts';
export * from './network-errors.ts';
export * from './notify/index.ts';
export * from './policy/index.ts';
export {
  defaultRegistryConcurrency,
  limitRegistry,
  RegistryLimiter,
  type RegistryLimits,
  registryLimits,
} from './registry-limiter.ts';
export { type RequestDeadline, requestDeadline } from './request-deadline.ts';
