import * as v from 'valibot';
import { type AdapterEntry, type AdapterTables, type AnyDefinition, adapterTypes } from '../adapters.ts';
import { fileForm, fileObject, node, secretEntries, secretFieldsOf, unwrap } from './file-form.ts';
import { registryLimitEntries } from './registry-limits.ts';

/**
 * The config file's adapter sections (registries, target, proxy, store), composed from the adapters
 * loaded: each type's options in the file's form. A type not loaded is only its `type` key here:
 * the loader loads every type a file names, and the JSON Schema and the reference load them all.
 */

/** A section whose keys depend on its `type`: typed loosely here, checked by its variant schema. */
type Section = Record<string, unknown>;
const loose = (schema: unknown) => schema as v.GenericSchema<Section, Section>;
type Entry = AdapterEntry<never, never>;

/** The entries of an adapter's options in the file's form, and which of its secrets are required. */
function adapterEntries(definition: AnyDefinition<never, never>) {
  const form = unwrap(node(fileForm(definition.options, definition.secrets)));
  const required = secretFieldsOf(form)
    .filter((field) => field.required)
    .map((field) => field.name);
  return { entries: { ...(form.entries as Record<string, v.GenericSchema>) }, required };
}

const typeEntry = (type: string, description: string) => v.pipe(v.literal(type), v.description(description));

/** A type whose adapter is not loaded: no config being read names it. */
const notLoaded = (type: string, description: string) =>
  v.looseObject({ type: typeEntry(type, description) });

const deprecatedOptions = v.optional(
  v.pipe(
    v.record(v.string(), v.unknown()),
    v.description(
      'Deprecated: the adapter options now sit on the registry itself, in snake_case. Still read, with a warning.',
    ),
    v.metadata({ deprecated: true }),
  ),
);

const registryDescriptions: Readonly<Record<string, string>> = {
  oci: 'Any OCI Distribution registry (registry:2, Harbor, Quay, GitLab…).',
  dockerhub: 'Docker Hub (an OCI registry with its endpoint and `library/` namespace preset).',
  gitea: 'Gitea or Forgejo: the OCI registry plus its packages API and signed package webhooks.',
  ghcr: 'GitHub Container Registry: ghcr.io plus the GitHub packages API and signed webhooks.',
  memory: 'An in-memory registry for tests and demos (it starts empty).',
};

/** One registry type: the adapter's options, its presets, plus the plan's spellings of them. */
function registryForm(type: string, loaded: Entry | undefined) {
  const description = registryDescriptions[type] ?? type;
  if (!loaded) return notLoaded(type, description);
  const { entries, required } = adapterEntries(loaded.definition);
  const describe = (key: string, text: string) =>
    secretEntries(key, v.pipe(v.string(), v.minLength(1)), text);
  let extra: Record<string, v.GenericSchema> = {};
  if (type === 'oci' || type === 'dockerhub') {
    extra = {
      ...describe('token', 'Same as `password` (the plan writes `token_env`).'),
      ...describe(
        'webhook_secret',
        'Shared secret of incoming registry notifications; same as `webhook.secret`.',
      ),
    };
  }
  const presets = loaded.presets ?? {};
  if (typeof presets.url === 'string')
    entries.url = v.optional(
      v.pipe(v.string(), v.description("Docker Hub's registry endpoint.")),
      presets.url,
    );
  if (typeof presets.defaultNamespace === 'string' && entries.default_namespace)
    entries.default_namespace = v.optional(
      unwrap(node(entries.default_namespace)) as unknown as v.GenericSchema,
      presets.defaultNamespace,
    );
  if (type === 'gitea' || type === 'ghcr') extra = describe('password', 'Same as `token`.');
  if (type === 'ghcr') extra.url = v.optional(v.pipe(v.string(), v.description('Same as `registry_url`.')));
  return fileObject(
    {
      type: typeEntry(type, description),
      ...entries,
      ...extra,
      ...registryLimitEntries,
      options: deprecatedOptions,
    },
    required,
  );
}

/** One adapter of a kind, chosen by `type`. */
function adapterForm(
  loaded: Entry | undefined,
  type: string,
  description: string,
  more: Record<string, v.GenericSchema> = {},
) {
  if (!loaded) return notLoaded(type, description);
  const { entries, required } = adapterEntries(loaded.definition);
  return fileObject({ type: typeEntry(type, description), ...entries, ...more }, required);
}

const entryOf = (table: ReadonlyMap<string, unknown>, type: string) => table.get(type) as Entry | undefined;

export const storeUrlPattern = /^(?:sqlite:.+|postgres(?:ql)?:\/\/.+|memory:)$/;

/** The sections of the file whose keys are an adapter's options, for the adapters loaded. */
export function adapterSections(adapters: AdapterTables) {
  const registry = v.pipe(
    loose(
      v.variant(
        'type',
        adapterTypes('registry').map((type) => registryForm(type, entryOf(adapters.registry, type))) as never,
      ),
    ),
    v.description("A registry, by its `type`; the other keys are that type's options."),
  );
  const target = v.pipe(
    loose(
      v.variant('type', [
        adapterForm(
          entryOf(adapters.target, 'docker'),
          'docker',
          "Docker Engine (or Podman's Docker-compatible API).",
          {
            reuse_registry_credentials: v.optional(
              v.pipe(
                v.boolean(),
                v.description(
                  'Pull with the credentials of the configured registry whose host the image names (unless `auth` has that host).',
                ),
              ),
              true,
            ),
          },
        ),
        adapterForm(
          entryOf(adapters.target, 'nomad'),
          'nomad',
          'HashiCorp Nomad: each project-stage is a job whose image is set.',
        ),
        adapterForm(
          entryOf(adapters.target, 'memory'),
          'memory',
          'In-memory instances, for tests and demos.',
        ),
      ] as never),
    ),
    v.description("Where deploys run (default: docker); the other keys are the target's options."),
  );
  const npm = entryOf(adapters.proxy, 'npm');
  const proxy = v.pipe(
    loose(
      v.variant('type', [
        adapterForm(npm, 'npm', 'Nginx Proxy Manager: one proxy host per stage host.'),
        adapterForm(entryOf(adapters.proxy, 'caddy'), 'caddy', 'Caddy, through its admin API.'),
        adapterForm(entryOf(adapters.proxy, 'memory'), 'memory', 'In-memory routes, for tests and demos.'),
      ] as never),
    ),
    v.description('The reverse proxy that routes stage hosts; the other keys are its options.'),
  );
  const npmEntries = npm ? adapterEntries(npm.definition) : undefined;
  const npmShorthand = v.pipe(
    loose(npmEntries ? fileObject(npmEntries.entries, npmEntries.required) : v.looseObject({})),
    v.description("The plan's shorthand for `proxy: { type: npm, … }`."),
  );
  const store = v.union([
    v.pipe(
      v.string(),
      v.regex(storeUrlPattern, 'must be sqlite:<file>, a postgres:// URL or memory:'),
      v.description('`sqlite:<file>`, a PostgreSQL URL, or `memory:` (forgets on exit).'),
      v.examples(['sqlite:./data/docker-watcher.db', 'postgres://watcher@db:5432/watcher']),
    ),
    loose(
      v.variant('type', [
        adapterForm(entryOf(adapters.store, 'sqlite'), 'sqlite', 'SQLite file (node:sqlite).'),
        adapterForm(
          entryOf(adapters.store, 'postgres'),
          'postgres',
          'PostgreSQL, for several replicas on one store.',
        ),
        adapterForm(entryOf(adapters.store, 'memory'), 'memory', 'In memory: forgets on exit.'),
      ] as never),
    ),
  ]);
  return { registry, target, proxy, npm: npmShorthand, store };
}
