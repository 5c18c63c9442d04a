import type { DeployTargetDefinition } from '@docker-watcher/core';
import { serviceUrlExamples } from '@docker-watcher/notifiers';
import { type AdapterTables, loadAllAdapters } from '../adapters.ts';
import { environmentSettings } from './environment.ts';
import { descriptionOf, fileForm, node, type SchemaNode, secretFieldsOf, unwrap } from './file-form.ts';
import { configSchemaFor } from './schema.ts';

/**
 * The config reference (`docs/config-reference.md`), generated from the same schema the loader
 * validates with: every key of the server and of every adapter, with its type, default, an
 * example and whether it is a secret. A test fails when the committed file is stale.
 */

interface Row {
  readonly key: string;
  readonly type: string;
  readonly default: string;
  readonly example: string;
  readonly description: string;
}

interface Section {
  readonly path: string;
  readonly title?: string;
  readonly rows: Row[];
}

const code = (value: unknown) => `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function actionOf(schema: SchemaNode, type: string): SchemaNode | undefined {
  for (let at: SchemaNode | undefined = schema; at; at = at.wrapped) {
    const found = (at.pipe ?? []).find((a) => a.type === type);
    if (found) return found;
  }
  return undefined;
}

function typeOf(schema: SchemaNode): string {
  const inner = unwrap(schema);
  switch (inner.type) {
    case 'string': {
      const starts = actionOf(inner, 'starts_with');
      return starts ? `text (starting with ${code(starts.requirement)})` : 'text';
    }
    case 'number': {
      const integer = actionOf(inner, 'integer') ? 'integer' : 'number';
      const min = actionOf(inner, 'min_value')?.requirement;
      const max = actionOf(inner, 'max_value')?.requirement;
      const range = [min !== undefined ? `≥ ${min}` : '', max !== undefined ? `≤ ${max}` : '']
        .filter(Boolean)
        .join(', ');
      return range ? `${integer} (${range})` : integer;
    }
    case 'boolean':
      return 'boolean';
    case 'literal':
      return code(inner.literal);
    case 'picklist':
    case 'enum':
      return (inner.options as unknown[]).map(code).join(' | ');
    case 'array':
      return `list of ${typeOf(inner.item!)}`;
    case 'record':
      return `mapping of name → ${typeOf(inner.value!)}`;
    case 'union':
      return (inner.options as SchemaNode[]).map(typeOf).join(' or ');
    case 'variant':
      return 'mapping, by `type` (below)';
    case 'never':
      return 'not accepted';
    case 'unknown':
      return 'any';
    default:
      return inner.entries ? 'mapping (below)' : inner.type;
  }
}

function exampleOf(key: string, schema: SchemaNode): string {
  const given = actionOf(schema, 'examples')?.examples?.[0];
  if (given !== undefined) return code(given);
  const inner = unwrap(schema);
  if (inner.default !== undefined || schema.default !== undefined)
    return code(schema.default ?? inner.default);
  const text = descriptionOf(schema) ?? '';
  const mentioned = /e\.g\. `([^`]+)`/.exec(text)?.[1] ?? /\(`([^`]+)`/.exec(text)?.[1];
  if (mentioned && inner.type === 'string') return code(mentioned);
  switch (inner.type) {
    case 'picklist':
    case 'enum':
      return code((inner.options as unknown[])[0]);
    case 'literal':
      return code(inner.literal);
    case 'boolean':
      return '`true`';
    case 'number':
      return code(actionOf(inner, 'min_value')?.requirement ?? 1);
    case 'string':
      return key.endsWith('_env') ? code(key.replace(/_env$/, '').toUpperCase()) : '';
    default:
      return '';
  }
}

function defaultOf(schema: SchemaNode): string {
  if (schema.default === undefined) return '';
  const value = typeof schema.default === 'function' ? (schema.default as () => unknown)() : schema.default;
  if (value && typeof value === 'object' && Object.keys(value).length === 0)
    return Array.isArray(value) ? '`[]`' : '`{}`';
  return code(value);
}

function collect(schema: SchemaNode, path: string, sections: Section[], title?: string): void {
  const inner = unwrap(schema);
  if (inner.type === 'variant') {
    for (const option of inner.options as SchemaNode[]) {
      const type = unwrap(option).entries?.type?.literal;
      collect(
        option,
        path,
        sections,
        `${code(`type: ${String(type)}`)}: ${descriptionOf(unwrap(option).entries!.type!) ?? ''}`,
      );
    }
    return;
  }
  if (inner.type === 'union') {
    for (const option of inner.options as SchemaNode[]) collect(option, path, sections, title);
    return;
  }
  if (inner.type === 'record') {
    collect(inner.value!, `${path}.<${placeholder(path)}>`, sections, title);
    return;
  }
  if (inner.type === 'array') {
    collect(inner.item!, `${path}[]`, sections, title);
    return;
  }
  if (!inner.entries) return;
  const secrets = new Map(secretFieldsOf(inner).map((s) => [s.name, s]));
  const rows: Row[] = [];
  const nested: Array<[string, SchemaNode]> = [];
  for (const [key, entry] of Object.entries(inner.entries)) {
    const base = key.replace(/_(env|file)$/, '');
    if (base !== key && secrets.has(base)) continue;
    const secret = secrets.get(key);
    const description = [
      secret
        ? `**Secret**: \`${key}_env\` (a variable) or \`${key}_file\` (a file)${secret.warnPlain ? '; in the file itself only with a warning' : ''}.`
        : '',
      descriptionOf(entry) ?? '',
      secret?.required ? 'Required.' : '',
    ]
      .filter(Boolean)
      .join(' ');
    rows.push({
      key: secret ? `${key}_env` : key,
      type: secret ? `name of a variable (value: ${typeOf(entry)})` : typeOf(entry),
      default: defaultOf(entry),
      example: secret ? code(key.toUpperCase()) : exampleOf(key, entry),
      description,
    });
    const child = unwrap(entry);
    const deep = (s: SchemaNode): boolean => {
      const u = unwrap(s);
      return (
        u.entries !== undefined ||
        u.type === 'variant' ||
        ((u.type === 'record' || u.type === 'array') && deep((u.value ?? u.item)!)) ||
        (u.type === 'union' && (u.options as SchemaNode[]).some(deep))
      );
    };
    if (deep(child) && key !== 'options') nested.push([key, entry]);
  }
  sections.push({ path, ...(title ? { title } : {}), rows });
  for (const [key, entry] of nested) collect(entry, path ? `${path}.${key}` : key, sections);
}

const placeholder = (path: string) =>
  (
    ({ registries: 'registry', projects: 'project', stages: 'stage', auth: 'host', jobs: 'job' }) as Record<
      string,
      string
    >
  )[path.split('.').pop() ?? ''] ?? 'name';

/** The `notify` channels, each with a service URL that parses (the notifiers' tests read every one). */
function channelsText(): string[] {
  return [
    '',
    '## Notification channels',
    '',
    'Each entry of `notify` names a channel by its service URL, in the format Shoutrrr documents, so',
    "Watchtower's URLs work as they are. The URL holds credentials: give it as `url_env` or `url_file`",
    '(the examples below are made up). The keys of an entry are in the `notify[]` section below.',
    '',
    '```yaml',
    'notify:',
    '  - url_env: SLACK_URL            # failures, rollbacks and releases waiting for a person',
    '  - name: ops-mail',
    '    url_file: /run/secrets/smtp_url',
    '    events: [deploy:failed, deploy:rolled-back]',
    '```',
    '',
    '| channel | example service URL | sends |',
    '| --- | --- | --- |',
    ...serviceUrlExamples.map((e) => `| ${cell(e.service)} | \`${e.url}\` | ${cell(e.sends)} |`),
  ];
}

/**
 * The stage options of each target type (`defineDeployTarget({ stageOptions })`), in the file's
 * spelling: what `projects.<project>.stages.<stage>.target` takes beside `name` on a target of that type.
 */
function stageOptionSections(adapters: AdapterTables, sections: Section[]): void {
  for (const [type, { definition }] of adapters.target) {
    const schema = (definition as DeployTargetDefinition).stageOptions;
    if (!schema) continue;
    const title = `On a target of \`type: ${type}\`: the options a stage gives it, beside \`name\`.`;
    collect(node(fileForm(schema, [])), 'projects.<project>.stages.<stage>.target', sections, title);
  }
}

/** The reference of every key: it loads every adapter, to describe them all. */
export async function configReferenceText(): Promise<string> {
  const sections: Section[] = [];
  const adapters = await loadAllAdapters();
  collect(node(configSchemaFor(adapters)), '', sections);
  stageOptionSections(adapters, sections);
  const out: string[] = [
    '# Docker Watcher configuration reference',
    '',
    '<!-- Generated from the config schema by `pnpm --filter @docker-watcher/server schema`; do not edit by hand. -->',
    '',
    "Every key of the server's YAML config file, the server's own and every adapter's, generated from the",
    'schema `docker-watcher check` validates with (and the JSON Schema `docker-watcher schema` prints). Keys',
    'are snake_case at every depth; the camelCase of earlier versions is still read, with a warning. A',
    'secret is given as `<key>_env` (an environment variable) or `<key>_file` (a file, as Docker and',
    'Kubernetes mount secrets; relative to the config file, one final newline dropped); written in the',
    'file itself it works, with a warning. `<name>` stands for a name you choose.',
    '',
    '## Environment variables',
    '',
    "The server's own settings, for the simple case; each wins over the file.",
    '',
    '| variable | what | example |',
    '| --- | --- | --- |',
    ...environmentSettings.map((s) => `| \`${s.variable}\` | ${cell(s.description)} | \`${s.example}\` |`),
    '',
    'The CLI reads `DOCKER_WATCHER_CONFIG` (the config file, default `docker-watcher.yml`), `DOCKER_WATCHER_URL`',
    '(a running server, default `http://127.0.0.1:8080`) and `DOCKER_WATCHER_TOKEN` (its API token).',
    ...channelsText(),
  ];
  for (const section of sections) {
    out.push('', `## ${section.path === '' ? 'Top level' : `\`${section.path}\``}`, '');
    if (section.title) out.push(section.title, '');
    out.push('| key | type | default | example | description |', '| --- | --- | --- | --- | --- |');
    for (const row of section.rows) {
      out.push(
        `| \`${row.key}\` | ${cell(row.type)} | ${cell(row.default)} | ${cell(row.example)} | ${cell(row.description)} |`,
      );
    }
  }
  return `${out.join('\n')}\n`;
}
