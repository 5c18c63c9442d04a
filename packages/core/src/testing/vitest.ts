// `@docker-watcher/core/testing/vitest`: the conformance suites registered as vitest tests. The only
// module of the kit that imports vitest; `@docker-watcher/core/testing` (the tables, `runCases`,
// the fakes) loads without it.
import { describe, it } from 'vitest';
import {
  type DeployTargetCaseId,
  type DeployTargetHarness,
  deployTargetSuite,
} from './deploy-target-suite.ts';
import { type NotifierCaseId, type NotifierHarness, notifierSuite } from './notifier-suite.ts';
import { type RegistryCaseId, type RegistryHarness, registrySuite } from './registry-suite.ts';
import {
  type ReverseProxyCaseId,
  type ReverseProxyHarness,
  reverseProxySuite,
} from './reverse-proxy-suite.ts';
import { type StateStoreCaseId, type StateStoreHarness, stateStoreSuite } from './state-store-suite.ts';
import { registerSuite, type SkipMap, type SuiteOptions, type TestApi } from './suite.ts';

const vitestApi: TestApi = { describe, it };

/** Registers the Registry conformance cases with vitest: one test per case, a fresh harness each. */
export function describeRegistry<const S extends SkipMap<S, RegistryCaseId> = Record<never, never>>(
  options: SuiteOptions<RegistryHarness, S>,
): void {
  registerSuite(registrySuite, options, vitestApi);
}

/** Registers the DeployTarget conformance cases with vitest: one test per case, a fresh harness each. */
export function describeDeployTarget<const S extends SkipMap<S, DeployTargetCaseId> = Record<never, never>>(
  options: SuiteOptions<DeployTargetHarness, S>,
): void {
  registerSuite(deployTargetSuite, options, vitestApi);
}

/** Registers the ReverseProxy conformance cases with vitest: one test per case, a fresh harness each. */
export function describeReverseProxy<const S extends SkipMap<S, ReverseProxyCaseId> = Record<never, never>>(
  options: SuiteOptions<ReverseProxyHarness, S>,
): void {
  registerSuite(reverseProxySuite, options, vitestApi);
}

/** Registers the Notifier conformance cases with vitest: one test per case, a fresh harness each. */
export function describeNotifier<const S extends SkipMap<S, NotifierCaseId> = Record<never, never>>(
  options: SuiteOptions<NotifierHarness, S>,
): void {
  registerSuite(notifierSuite, options, vitestApi);
}

/** Registers the StateStore conformance cases with vitest: one test per case, a fresh harness each. */
export function describeStateStore<const S extends SkipMap<S, StateStoreCaseId> = Record<never, never>>(
  options: SuiteOptions<StateStoreHarness, S>,
): void {
  registerSuite(stateStoreSuite, options, vitestApi);
}
