import type { Platform, Registry, RegistryObservation, WebhookRequest } from '../contracts/registry.ts';
import { isDigest } from '../contracts/release.ts';
import {
  abortedSignal,
  check,
  checkAdapterId,
  checkFlags,
  defined,
  expectCoreError,
  same,
} from './assertions.ts';
import {
  type CaseResult,
  type ConformanceSuite,
  caseTable,
  disposeIsIdempotentCase,
  type HarnessBase,
  runCase,
} from './suite.ts';

/** What the kit asks the harness to create in the backend. */
export interface RegistrySeed {
  /** A repository path unique to the case, e.g. `conformance/app-k3x9a0b2`; the harness may prefix a namespace. */
  readonly repository: string;
  /** Tags to point at new images: every tag gets its own image, and seeding a tag again moves it to a new one. */
  readonly tags: readonly string[];
  /** When present, every image is a multi-platform index of these platforms (only with `capabilities.platforms`). */
  readonly platforms?: readonly Platform[];
  /** Labels and exposed ports of every image's config (only with `capabilities.imageConfig`). */
  readonly config?: {
    readonly labels: Readonly<Record<string, string>>;
    readonly exposedPorts: readonly number[];
  };
}

export interface SeededRepository {
  /** The repository as the adapter names it. */
  readonly repository: string;
  /** The digest each seeded tag points at now. */
  readonly digests: Readonly<Record<string, string>>;
}

/** Webhook requests as the backend would send them; needed when the adapter claims `capabilities.webhooks`. */
export interface RegistryWebhookHarness {
  /** A correctly signed request announcing that `observation.tag` was pushed. */
  signed(observation: RegistryObservation): WebhookRequest | Promise<WebhookRequest>;
  /** The same announcement with a signature that does not verify (wrong secret). */
  forged(observation: RegistryObservation): WebhookRequest | Promise<WebhookRequest>;
  /** A request that passes authentication but whose body is not a valid event. */
  malformed(): WebhookRequest | Promise<WebhookRequest>;
}

export interface RegistryHarness extends HarnessBase {
  readonly registry: Registry;
  /** Makes `seed.tags` exist in `seed.repository` (created when missing) and reports their digests. */
  seed(seed: RegistrySeed): Promise<SeededRepository>;
  /** Tags the pagination cases seed in one repository: more than one page of the backend. 120 by default. */
  readonly manyTags?: number;
  /** Requests the adapter has sent to its backend so far. Enables `list-tags-makes-no-request-per-tag`. */
  requestCount?(): number;
  readonly webhooks?: RegistryWebhookHarness;
}

export type RegistryCaseId =
  | 'id-names-kind-and-backend'
  | 'capabilities-are-flags'
  | 'list-tags-returns-every-seeded-tag'
  | 'list-tags-spans-pages'
  | 'list-tags-makes-no-request-per-tag'
  | 'list-tags-unknown-repository-not-found'
  | 'resolve-tag-returns-its-digest'
  | 'resolve-digest-reference-returns-it'
  | 'resolve-missing-tag-returns-undefined'
  | 'resolve-follows-repushed-tag'
  | 'digests-are-sha256'
  | 'resolve-reports-platforms'
  | 'read-image-config-returns-labels-and-ports'
  | 'read-image-config-absent-when-unclaimed'
  | 'read-image-config-of-an-index-needs-a-platform'
  | 'webhook-signed-gives-observations'
  | 'webhook-forged-is-unauthorized'
  | 'webhook-malformed-is-bad-request'
  | 'parse-webhook-absent-when-unclaimed'
  | 'aborted-signal-aborts'
  | 'dispose-is-idempotent';

const basicTags = ['v1.0.0', 'v1.1.0', 'dev-abc'] as const;

const repositoryFor = (unique: string): string => `conformance/app-${unique}`;

function manyTagsOf(harness: RegistryHarness): string[] {
  const count = harness.manyTags ?? 120;
  return Array.from({ length: count }, (_, index) => `t${String(index).padStart(4, '0')}`);
}

function webhooksOf(harness: RegistryHarness): RegistryWebhookHarness {
  return defined(
    harness.webhooks,
    'capabilities.webhooks is claimed, so the harness needs `webhooks` (signed, forged, malformed) — or skip the webhook cases with a reason',
  );
}

function parseWebhookOf(registry: Registry): NonNullable<Registry['parseWebhook']> {
  const parse = registry.parseWebhook;
  check(typeof parse === 'function', 'capabilities.webhooks is claimed but parseWebhook is not a function');
  return parse.bind(registry);
}

async function seedBasic(harness: RegistryHarness, unique: string): Promise<SeededRepository> {
  return harness.seed({ repository: repositoryFor(unique), tags: basicTags });
}

export const registryCases = caseTable<RegistryHarness, RegistryCaseId>({
  'id-names-kind-and-backend': {
    title: 'id is registry:<name>',
    run: async ({ harness }) => checkAdapterId(harness.registry.id, 'registry'),
  },
  'capabilities-are-flags': {
    title: 'capabilities are boolean flags',
    run: async ({ harness }) =>
      checkFlags(harness.registry.capabilities, ['imageConfig', 'webhooks', 'platforms']),
  },
  'list-tags-returns-every-seeded-tag': {
    title: 'listTags returns exactly the seeded tags',
    run: async ({ harness, unique }) => {
      const seeded = await seedBasic(harness, unique);
      const tags = await harness.registry.listTags({ repository: seeded.repository });
      same(
        [...tags].sort(),
        [...basicTags].sort(),
        'listTags of a repository seeded with v1.0.0, v1.1.0, dev-abc',
      );
    },
  },
  'list-tags-spans-pages': {
    title: 'listTags returns every tag of a repository larger than one page',
    run: async ({ harness, unique }) => {
      const tags = manyTagsOf(harness);
      const seeded = await harness.seed({ repository: repositoryFor(unique), tags });
      const listed = await harness.registry.listTags({ repository: seeded.repository });
      check(listed.length === new Set(listed).size, `listTags returned duplicates (${listed.length} names)`);
      const missing = tags.filter((tag) => !listed.includes(tag));
      check(
        missing.length === 0,
        `listTags missed ${missing.length} of ${tags.length} tags, e.g. ${missing.slice(0, 5).join(', ')}`,
      );
      check(
        listed.length === tags.length,
        `listTags returned ${listed.length} tags, ${tags.length} were seeded`,
      );
    },
  },
  'list-tags-makes-no-request-per-tag': {
    title: 'listTags costs a few requests per page, never one per tag',
    gate: {
      claim: 'harness.requestCount()',
      when: true,
      claimed: (harness) => harness.requestCount !== undefined,
    },
    run: async ({ harness, unique }) => {
      const count = defined(harness.requestCount, 'harness.requestCount').bind(harness);
      const tags = manyTagsOf(harness);
      const seeded = await harness.seed({ repository: repositoryFor(unique), tags });
      const before = count();
      await harness.registry.listTags({ repository: seeded.repository });
      const spent = count() - before;
      check(
        spent < tags.length / 2,
        `listTags of ${tags.length} tags sent ${spent} requests: that is a request per tag`,
      );
    },
  },
  'list-tags-unknown-repository-not-found': {
    title: 'listTags of an unknown repository throws NOT_FOUND',
    run: async ({ harness, unique }) => {
      await expectCoreError(
        harness.registry.listTags({ repository: `${repositoryFor(unique)}-missing` }),
        'NOT_FOUND',
        'listTags of a repository that does not exist',
      );
    },
  },
  'resolve-tag-returns-its-digest': {
    title: 'resolveReference of a tag returns the digest it points at',
    run: async ({ harness, unique }) => {
      const seeded = await seedBasic(harness, unique);
      for (const tag of basicTags) {
        const resolved = await harness.registry.resolveReference({
          repository: seeded.repository,
          reference: tag,
        });
        same(
          resolved?.digest,
          defined(seeded.digests[tag], `seeded digest of ${tag}`),
          `resolveReference of ${tag}`,
        );
      }
    },
  },
  'resolve-digest-reference-returns-it': {
    title: 'resolveReference of a digest returns that digest',
    run: async ({ harness, unique }) => {
      const seeded = await seedBasic(harness, unique);
      const digest = defined(seeded.digests['v1.0.0'], 'seeded digest of v1.0.0');
      const resolved = await harness.registry.resolveReference({
        repository: seeded.repository,
        reference: digest,
      });
      same(resolved?.digest, digest, `resolveReference of ${digest}`);
    },
  },
  'resolve-missing-tag-returns-undefined': {
    title: 'resolveReference of a missing tag returns undefined',
    run: async ({ harness, unique }) => {
      const seeded = await seedBasic(harness, unique);
      const resolved = await harness.registry.resolveReference({
        repository: seeded.repository,
        reference: 'missing-tag',
      });
      check(
        resolved === undefined,
        `resolveReference of a missing tag: expected undefined, got ${JSON.stringify(resolved)}`,
      );
    },
  },
  'resolve-follows-repushed-tag': {
    title: 'resolveReference sees a tag that was pushed again at its new digest',
    run: async ({ harness, unique }) => {
      const first = await harness.seed({ repository: repositoryFor(unique), tags: ['stable'] });
      const second = await harness.seed({ repository: repositoryFor(unique), tags: ['stable'] });
      check(
        first.digests.stable !== second.digests.stable,
        'the harness must push a new image when a tag is seeded again',
      );
      const resolved = await harness.registry.resolveReference({
        repository: second.repository,
        reference: 'stable',
      });
      same(resolved?.digest, second.digests.stable, 'resolveReference of a re-pushed tag');
    },
  },
  'digests-are-sha256': {
    title: 'digests are sha256:<64 hex>, one per distinct image',
    run: async ({ harness, unique }) => {
      const seeded = await seedBasic(harness, unique);
      const digests: string[] = [];
      for (const tag of basicTags) {
        const resolved = defined(
          await harness.registry.resolveReference({ repository: seeded.repository, reference: tag }),
          `resolveReference of ${tag}`,
        );
        check(
          isDigest(resolved.digest),
          `digest of ${tag}: expected sha256:<64 hex>, got ${resolved.digest}`,
        );
        digests.push(resolved.digest);
      }
      check(
        new Set(digests).size === digests.length,
        `distinct images share a digest: ${digests.join(', ')}`,
      );
    },
  },
  'resolve-reports-platforms': {
    title: 'resolveReference of a multi-platform index lists its platforms',
    gate: {
      claim: 'capabilities.platforms',
      when: true,
      claimed: (harness) => harness.registry.capabilities.platforms,
    },
    run: async ({ harness, unique }) => {
      const platforms: Platform[] = [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64' },
      ];
      const seeded = await harness.seed({ repository: repositoryFor(unique), tags: ['multi'], platforms });
      const resolved = defined(
        await harness.registry.resolveReference({ repository: seeded.repository, reference: 'multi' }),
        'resolveReference of a multi-platform tag',
      );
      same(resolved.digest, seeded.digests.multi, 'digest of the index');
      const listed = defined(resolved.platforms, 'platforms of a multi-platform index');
      for (const platform of platforms) {
        const entry = listed.find(
          (item) => item.os === platform.os && item.architecture === platform.architecture,
        );
        check(
          entry !== undefined,
          `platforms lack ${platform.os}/${platform.architecture}: ${JSON.stringify(listed)}`,
        );
        check(
          isDigest(entry.digest),
          `platform ${platform.architecture}: digest ${entry.digest} is not sha256:<64 hex>`,
        );
      }
    },
  },
  'read-image-config-returns-labels-and-ports': {
    title: 'readImageConfig returns the labels and exposed ports of an image',
    gate: {
      claim: 'capabilities.imageConfig',
      when: true,
      claimed: (harness) => harness.registry.capabilities.imageConfig,
    },
    run: async ({ harness, unique }) => {
      const config = { labels: { 'org.opencontainers.image.title': 'conformance' }, exposedPorts: [8080] };
      const seeded = await harness.seed({ repository: repositoryFor(unique), tags: ['configured'], config });
      const read = harness.registry.readImageConfig;
      check(
        typeof read === 'function',
        'capabilities.imageConfig is claimed but readImageConfig is not a function',
      );
      const digest = defined(seeded.digests.configured, 'seeded digest');
      const image = await read.call(harness.registry, { repository: seeded.repository, digest });
      same(
        image.labels['org.opencontainers.image.title'],
        'conformance',
        'label org.opencontainers.image.title',
      );
      check(
        image.exposedPorts.includes(8080),
        `exposedPorts: expected 8080 among ${JSON.stringify(image.exposedPorts)}`,
      );
    },
  },
  'read-image-config-absent-when-unclaimed': {
    title: 'without capabilities.imageConfig there is no readImageConfig',
    gate: {
      claim: 'capabilities.imageConfig',
      when: false,
      claimed: (harness) => harness.registry.capabilities.imageConfig,
    },
    run: async ({ harness }) => {
      check(
        harness.registry.readImageConfig === undefined,
        'readImageConfig exists but capabilities.imageConfig is false',
      );
    },
  },
  'read-image-config-of-an-index-needs-a-platform': {
    title: 'readImageConfig of a multi-platform index reads the named platform, and without one lists them',
    gate: {
      claim: 'capabilities.imageConfig and capabilities.platforms',
      when: true,
      claimed: (harness) =>
        harness.registry.capabilities.imageConfig && harness.registry.capabilities.platforms,
    },
    run: async ({ harness, unique }) => {
      const platforms: Platform[] = [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64' },
      ];
      const config = { labels: { 'org.opencontainers.image.title': 'indexed' }, exposedPorts: [8080] };
      const seeded = await harness.seed({
        repository: repositoryFor(unique),
        tags: ['multi'],
        platforms,
        config,
      });
      const read = defined(harness.registry.readImageConfig, 'readImageConfig');
      const digest = defined(seeded.digests.multi, 'seeded digest of the index');
      const named = await read.call(harness.registry, {
        repository: seeded.repository,
        digest,
        platform: { os: 'linux', architecture: 'arm64' },
      });
      same(named.labels['org.opencontainers.image.title'], 'indexed', 'label of the named platform');
      // Guessing a platform would read another machine's image: the caller must choose, told what there is.
      const unnamed = await expectCoreError(
        () => read.call(harness.registry, { repository: seeded.repository, digest }),
        'BAD_REQUEST',
        'readImageConfig of an index without a platform',
      );
      for (const platform of ['linux/amd64', 'linux/arm64']) {
        check(unnamed.message.includes(platform), `the error names ${platform}: ${unnamed.message}`);
      }
      const missing = await expectCoreError(
        () =>
          read.call(harness.registry, {
            repository: seeded.repository,
            digest,
            platform: { os: 'windows', architecture: 'amd64' },
          }),
        'NOT_FOUND',
        'readImageConfig of a platform the index lacks',
      );
      check(missing.message.includes('linux/arm64'), `the error lists what there is: ${missing.message}`);
    },
  },
  'webhook-signed-gives-observations': {
    title: 'parseWebhook turns a signed request into observations',
    gate: {
      claim: 'capabilities.webhooks',
      when: true,
      claimed: (harness) => harness.registry.capabilities.webhooks,
    },
    run: async ({ harness, unique }) => {
      const parse = parseWebhookOf(harness.registry);
      const seeded = await seedBasic(harness, unique);
      const observation: RegistryObservation = {
        repository: seeded.repository,
        tag: 'v1.1.0',
        action: 'pushed',
        eventId: `event-${unique}`,
        ...(seeded.digests['v1.1.0'] === undefined ? {} : { digest: seeded.digests['v1.1.0'] }),
      };
      const observations = await parse(await webhooksOf(harness).signed(observation));
      const found = observations.find(
        (item) =>
          item.repository === observation.repository &&
          item.tag === observation.tag &&
          item.action === 'pushed',
      );
      check(
        found !== undefined,
        `no pushed observation of ${observation.repository}:v1.1.0 in ${JSON.stringify(observations)}`,
      );
      if (found.digest !== undefined) same(found.digest, observation.digest, 'digest of the observation');
    },
  },
  'webhook-forged-is-unauthorized': {
    title: 'parseWebhook rejects a forged signature with UNAUTHORIZED',
    gate: {
      claim: 'capabilities.webhooks',
      when: true,
      claimed: (harness) => harness.registry.capabilities.webhooks,
    },
    run: async ({ harness, unique }) => {
      const parse = parseWebhookOf(harness.registry);
      const observation: RegistryObservation = {
        repository: repositoryFor(unique),
        tag: 'v9.9.9',
        action: 'pushed',
      };
      await expectCoreError(
        parse(await webhooksOf(harness).forged(observation)),
        'UNAUTHORIZED',
        'parseWebhook of a forged request',
      );
    },
  },
  'webhook-malformed-is-bad-request': {
    title: 'parseWebhook rejects an authentic but malformed body with BAD_REQUEST',
    gate: {
      claim: 'capabilities.webhooks',
      when: true,
      claimed: (harness) => harness.registry.capabilities.webhooks,
    },
    run: async ({ harness }) => {
      const parse = parseWebhookOf(harness.registry);
      await expectCoreError(
        parse(await webhooksOf(harness).malformed()),
        'BAD_REQUEST',
        'parseWebhook of a malformed body',
      );
    },
  },
  'parse-webhook-absent-when-unclaimed': {
    title: 'without capabilities.webhooks there is no parseWebhook',
    gate: {
      claim: 'capabilities.webhooks',
      when: false,
      claimed: (harness) => harness.registry.capabilities.webhooks,
    },
    run: async ({ harness }) => {
      check(
        harness.registry.parseWebhook === undefined,
        'parseWebhook exists but capabilities.webhooks is false',
      );
    },
  },
  'aborted-signal-aborts': {
    title: 'an aborted signal makes calls throw ABORTED',
    run: async ({ harness, unique }) => {
      const seeded = await seedBasic(harness, unique);
      const signal = abortedSignal();
      await expectCoreError(
        harness.registry.listTags({ repository: seeded.repository, signal }),
        'ABORTED',
        'listTags',
      );
      await expectCoreError(
        harness.registry.resolveReference({ repository: seeded.repository, reference: 'v1.0.0', signal }),
        'ABORTED',
        'resolveReference',
      );
    },
  },
  'dispose-is-idempotent': disposeIsIdempotentCase((harness) => harness.registry),
});

export const registrySuite: ConformanceSuite<RegistryHarness, RegistryCaseId> = {
  contract: 'Registry',
  cases: registryCases,
  subject: (harness) => harness.registry,
};

/** Runs one Registry case without vitest; failures come back as results. */
export function runRegistryCase(
  id: RegistryCaseId,
  create: () => RegistryHarness | Promise<RegistryHarness>,
): Promise<CaseResult<RegistryCaseId>> {
  return runCase(registrySuite, id, create);
}
