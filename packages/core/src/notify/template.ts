import { ConfigError, type ConfigProblem } from '../config.ts';

/**
 * The variables a notification template may use. Every value is text; a variable an event does not
 * have is empty. Nothing else is reachable: names are checked when the template is compiled.
 */
export const templateVariables = {
  type: 'the event type, e.g. deploy:failed (digest for a digest)',
  title: 'the default title of the message',
  text: 'the default text of the message',
  project: 'the project',
  stage: 'the stage',
  tag: 'the tag of the release',
  digest: 'the digest of the release (sha256:…)',
  previous: 'the tag that ran before (or runs now, or serves again after a rollback)',
  previous_digest: 'the digest of that release',
  duration: 'how long the deploy took, e.g. 1 min 12 s',
  reason: 'why: the error message, the rollback reason, why a release is available',
  error_code: 'the error code, e.g. TIMEOUT',
  trigger: 'what started the deploy: auto, manual, promotion, rollback, pin, resume',
  by: 'who started the deploy, when a person did',
  link: 'the dashboard page of the deploy or of the approvals (with a public URL)',
  deploy_id: 'the deploy id',
  approval_id: 'the approval id',
  adapter: 'the adapter of an adapter error, e.g. registry:gitea',
  operation: 'the failed operation of an adapter error, e.g. listTags',
  holder: 'the replica of a leadership change',
  count: 'how many events the message tells of',
} as const;

export type TemplateVariable = keyof typeof templateVariables;

/** Text values by variable name; a null-prototype object, so no name reaches a prototype. */
export type TemplateValues = Readonly<Partial<Record<TemplateVariable, string>>>;

const filters = {
  upper: (value: string) => value.toUpperCase(),
  lower: (value: string) => value.toLowerCase(),
  /** `sha256:0123456789abcdef…` -> `sha256:0123456789ab`; other values: the first 12 characters. */
  short: (value: string) => {
    const colon = value.indexOf(':');
    return colon === -1 ? value.slice(0, 12) : value.slice(0, colon + 13);
  },
} as const satisfies Record<string, (value: string) => string>;

export type TemplateFilter = keyof typeof filters;

export const templateFilters: readonly TemplateFilter[] = Object.keys(filters) as TemplateFilter[];

type Node =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'value'; readonly name: TemplateVariable; readonly filters: readonly TemplateFilter[] }
  | {
      readonly kind: 'section';
      readonly name: TemplateVariable;
      readonly inverted: boolean;
      readonly children: readonly Node[];
    };

export interface NotificationTemplate {
  readonly source: string;
  /** Plain text: channels escape it for their markup like any other text of the message. */
  render(values: TemplateValues): string;
}

const isVariable = (name: string): name is TemplateVariable => Object.hasOwn(templateVariables, name);
const isFilter = (name: string): name is TemplateFilter => Object.hasOwn(filters, name);

interface Frame {
  readonly name: TemplateVariable | undefined;
  readonly inverted: boolean;
  readonly children: Node[];
  readonly at: number;
}

/**
 * Compiles a template of the small notification template language:
 *
 * - `{{ project }}` inserts a variable (see `templateVariables`);
 * - `{{ digest | short }}`, `{{ stage | upper }}` pass it through filters (`upper`, `lower`, `short`);
 * - `{{#previous}}…{{/previous}}` keeps its inside only when the variable is not empty,
 *   `{{^previous}}…{{/previous}}` only when it is.
 *
 * Nothing is evaluated: there are no expressions, calls, loops or property paths. Every problem
 * (unknown variable or filter, unclosed section) is reported at once as a `ConfigError` under `path`.
 */
export function compileNotificationTemplate(source: string, path = 'template'): NotificationTemplate {
  const problems: ConfigProblem[] = [];
  const problem = (at: number, message: string) =>
    problems.push({ path, message: `${message} (at character ${at + 1})` });
  const stack: Frame[] = [{ name: undefined, inverted: false, children: [], at: 0 }];
  const top = () => stack[stack.length - 1] as Frame;
  const tag = /\{\{(.*?)\}\}/gs;
  let last = 0;
  for (let match = tag.exec(source); match !== null; match = tag.exec(source)) {
    if (match.index > last) top().children.push({ kind: 'text', text: source.slice(last, match.index) });
    last = match.index + match[0].length;
    const inner = (match[1] ?? '').trim();
    const sigil = inner[0];
    if (sigil === '#' || sigil === '^') {
      const name = inner.slice(1).trim();
      if (!isVariable(name)) problem(match.index, unknownVariable(name));
      stack.push({
        name: isVariable(name) ? name : undefined,
        inverted: sigil === '^',
        children: [],
        at: match.index,
      });
      continue;
    }
    if (sigil === '/') {
      const name = inner.slice(1).trim();
      const frame = top();
      if (stack.length === 1) {
        problem(match.index, `{{/${name}}} closes no section`);
        continue;
      }
      if (frame.name !== undefined && frame.name !== name) {
        problem(match.index, `{{/${name}}} closes the section {{#${frame.name}}}: close that one first`);
      }
      stack.pop();
      if (frame.name !== undefined) {
        top().children.push({
          kind: 'section',
          name: frame.name,
          inverted: frame.inverted,
          children: frame.children,
        });
      }
      continue;
    }
    const [name = '', ...piped] = inner.split('|').map((part) => part.trim());
    if (!isVariable(name)) {
      problem(match.index, unknownVariable(name));
      continue;
    }
    const unknown = piped.filter((filter) => !isFilter(filter));
    for (const filter of unknown) {
      problem(match.index, `unknown filter "${filter}"; one of: ${templateFilters.join(', ')}`);
    }
    if (unknown.length === 0)
      top().children.push({ kind: 'value', name, filters: piped as TemplateFilter[] });
  }
  if (last < source.length) top().children.push({ kind: 'text', text: source.slice(last) });
  if (/\{\{/.test(source.slice(last))) problem(last, 'a {{ is never closed with }}');
  for (const frame of stack.slice(1)) {
    problem(frame.at, `the section {{#${frame.name ?? '?'}}} is never closed`);
  }
  if (problems.length > 0) throw new ConfigError(problems, { subject: 'notification template' });
  const nodes = top().children;
  return { source, render: (values) => renderNodes(nodes, values) };
}

function unknownVariable(name: string): string {
  return name === ''
    ? 'an empty {{ }}'
    : `unknown variable "${name}"; one of: ${Object.keys(templateVariables).join(', ')}`;
}

function renderNodes(nodes: readonly Node[], values: TemplateValues): string {
  let out = '';
  for (const node of nodes) {
    if (node.kind === 'text') out += node.text;
    else if (node.kind === 'value') {
      const value = Object.hasOwn(values, node.name) ? (values[node.name] ?? '') : '';
      out += node.filters.reduce((text, filter) => filters[filter](text), value);
    } else {
      const value = Object.hasOwn(values, node.name) ? (values[node.name] ?? '') : '';
      if ((value !== '') !== node.inverted) out += renderNodes(node.children, values);
    }
  }
  return out;
}
