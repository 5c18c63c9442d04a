import type { Registry } from '../../contracts/registry.ts';
import { type Release, type StageRef, stageKey } from '../../contracts/release.ts';
import type { StageState, StateStore } from '../../contracts/state-store.ts';
import type { EngineProject, EngineStage } from '../engine-config.ts';
import { type ObservationInbox, repoKey } from '../observe/observation-inbox.ts';
import { type RegistryView, TagNotLinkedYet } from '../observe/registry-view.ts';
import { decide, type StageDecision } from './decide.ts';

export interface StageDecisionsOptions {
  readonly store: StateStore;
  /** The engine's registries, each behind its limiter, by name. */
  readonly registries: Readonly<Record<string, Registry>>;
  readonly view: RegistryView;
  /** Tags a webhook reported pushed and no look settled yet: their digests are resolved anew. */
  readonly inbox: ObservationInbox;
  readonly stageOf: (ref: StageRef) => EngineStage;
  readonly projectOf: (ref: StageRef) => EngineProject;
  /** First pause before a release whose deploy failed for reasons of ours is tried again. */
  readonly retryBaseMs: number;
  readonly onError: (adapterId: string, operation: string, error: unknown) => void;
}

/**
 * What each stage should do now: the release its policy, pin or source stage offers (asking the
 * registry only what the view does not know), and `decide()` over it, the stage's state, its recent
 * deploys and approvals. Looks of the poll cycle decide with a memo: unchanged inputs need no new
 * decision and cost no reads.
 */
export class StageDecisions {
  readonly #options: StageDecisionsOptions;
  /** Per stage: the inputs of its last memoised decision. */
  readonly #decided = new Map<string, string>();

  constructor(options: StageDecisionsOptions) {
    this.#options = options;
  }

  /** Decides a stage; with `memo`, `decision` is undefined when its inputs did not change since the last one. */
  async decide(
    ref: StageRef,
    signal?: AbortSignal,
    memo = false,
  ): Promise<{ readonly candidate: Release | undefined; readonly decision: StageDecision | undefined }> {
    const state = await this.#options.store.getStage(ref);
    const candidate = await this.candidateOf(ref, state, signal);
    if (memo) {
      // Same tags, same stage state, same candidate: the last decision stands, and costs no reads.
      const project = this.#options.projectOf(ref);
      const fingerprint = `${this.#options.view.version(repoKey(project.registry, project.repository))}|${state?.revision ?? 0}|${candidate?.tag}@${candidate?.digest}`;
      if (this.#decided.get(stageKey(ref)) === fingerprint) return { candidate, decision: undefined };
      this.#decided.set(stageKey(ref), fingerprint);
    }
    const decision = await this.decisionOf(ref, state, candidate);
    // A decision that waits for a retry changes with time alone: the next look decides anew.
    if (decision.action === 'none' && decision.retryAt) this.forget(ref);
    return { candidate, decision };
  }

  /** The next memoised decision of the stage is made anew (its last one could not be acted on). */
  forget(ref: StageRef): void {
    this.#decided.delete(stageKey(ref));
  }

  /** `decide()` over a candidate, the stage's state, its recent deploys and its approvals. */
  async decisionOf(ref: StageRef, state: StageState | undefined, candidate: Release | undefined) {
    const { store, stageOf, retryBaseMs } = this.#options;
    const [recentDeploys, approvals] = await Promise.all([
      store.listDeploys({ project: ref.project, stage: ref.stage, limit: 20 }),
      store.listApprovals({ project: ref.project, stage: ref.stage }),
    ]);
    return decide({ stage: stageOf(ref), state, candidate, recentDeploys, approvals, retryBaseMs });
  }

  /** The release a stage's policy, pin or source stage offers now. */
  async candidateOf(
    ref: StageRef,
    state: StageState | undefined,
    signal?: AbortSignal,
  ): Promise<Release | undefined> {
    const { store, registries, view, stageOf, projectOf, onError } = this.#options;
    const config = stageOf(ref);
    if (config.promoteFrom) {
      const source = await store.getStage({ project: ref.project, stage: config.promoteFrom });
      const proven = source?.actual;
      return proven && config.policy.allows(proven.tag) ? proven : undefined;
    }
    const pin = state === undefined ? config.pin : state.pin;
    const project = projectOf(ref);
    const repo = repoKey(project.registry, project.repository);
    let tag: string | undefined;
    if (pin) tag = pin;
    else {
      // Before the first listing (or after it failed), look now; a failure means no candidate yet.
      const tags =
        view.tags(repo) ??
        (await this.listNow(project, signal).catch((error: unknown) => {
          onError(registries[project.registry]!.id, 'listTags', error);
          return [];
        }));
      tag = config.policy.select({ tags, ...(state?.actual ? { current: state.actual.tag } : {}) })?.tag;
    }
    if (!tag) return undefined;
    // Request economy: the running tag's digest is re-checked only for pins (that is what a pin
    // watches, whether the stage's pin or a policy that is one) and after a webhook reported a push
    // of that tag; new tags are always resolved.
    const watchesDigest = pin !== undefined || config.policy.kind === 'pin';
    const repushed = this.#options.inbox.tags(repo).includes(tag);
    if (!watchesDigest && state?.actual?.tag === tag && !repushed) return state.actual;
    const known = view.digests(repo);
    const cached = known.get(tag);
    if (!watchesDigest && cached && !repushed) return { tag, digest: cached };
    const digest = await this.resolveDigest(ref, tag, signal);
    if (digest) known.set(tag, digest);
    // Listed but without a manifest: the registry is linking the tag right now (see RepositoryLooks).
    if (!digest && view.tags(repo)?.includes(tag)) throw new TagNotLinkedYet(project.repository, tag);
    return digest ? { tag, digest } : undefined;
  }

  /** Lists a repository outside the cycle (a manual deploy, a first decision), skipping any backoff. */
  async listNow(project: EngineProject, signal?: AbortSignal): Promise<string[]> {
    const tags = await this.#options.registries[project.registry]!.listTags({
      repository: project.repository,
      ...(signal ? { signal } : {}),
    });
    this.#options.view.relisted(repoKey(project.registry, project.repository), tags);
    return tags;
  }

  async resolveDigest(ref: StageRef, tag: string, signal?: AbortSignal): Promise<string | undefined> {
    const project = this.#options.projectOf(ref);
    const resolved = await this.#options.registries[project.registry]!.resolveReference({
      repository: project.repository,
      reference: tag,
      ...(signal ? { signal } : {}),
    });
    return resolved?.digest;
  }
}
