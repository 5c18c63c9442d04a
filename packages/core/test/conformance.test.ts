import {
  describeDeployTarget,
  describeNotifier,
  describeRegistry,
  describeReverseProxy,
  describeStateStore,
} from '../src/testing/vitest.ts';
import {
  memoryDeployTargetHarness,
  memoryNotifierHarness,
  memoryRegistryHarness,
  memoryReverseProxyHarness,
  memoryStateStoreHarness,
  webhookSecret,
} from './memory-harnesses.ts';

describeRegistry({ name: 'registry:memory', create: () => memoryRegistryHarness({ webhookSecret }) });
describeRegistry({
  name: 'registry:memory (no webhooks, no image config)',
  create: () => memoryRegistryHarness({ imageConfig: false }),
});
describeDeployTarget({ name: 'target:memory', create: () => memoryDeployTargetHarness() });
describeDeployTarget({
  name: 'target:memory (recreate, slow start)',
  create: () => memoryDeployTargetHarness({ blueGreen: false, startingProbes: 2 }),
});
describeDeployTarget({
  name: 'target:memory (in-place)',
  create: () => memoryDeployTargetHarness({ replacement: 'in-place' }),
});
describeDeployTarget({
  name: 'target:memory (canaries promoted after a confirmation)',
  create: () => ({ ...memoryDeployTargetHarness({ promotion: true }), awaitsPromotion: true }),
});
describeReverseProxy({ name: 'proxy:memory', create: () => memoryReverseProxyHarness() });
describeNotifier({ name: 'notifier:memory', create: () => memoryNotifierHarness() });
describeStateStore({ name: 'store:memory', create: () => memoryStateStoreHarness() });
