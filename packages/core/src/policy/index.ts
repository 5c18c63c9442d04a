export { type TagPolicyOptions, tagPolicyOptions } from './options.ts';
export { fromRegistryWatcherPin, fromTagPattern } from './seed-semantics.ts';
export {
  type CompileTagPolicyContext,
  compileTagPolicy,
  type SelectTagInput,
  type TagCandidate,
  type TagPolicy,
  type TagPolicyKind,
} from './tag-policy.ts';
