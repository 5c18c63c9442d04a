import * as v from 'valibot';
import { CoreError } from './errors.ts';

export interface ConfigProblem {
  /** Dotted path of the field, e.g. `projects.web-app.stages.dev.tag_pattern`; empty for the root. */
  path: string;
  message: string;
}

/** A `CONFIG_INVALID` error whose message lists every problem as a `path: message` line. */
export class ConfigError extends CoreError {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: ConfigProblem[], options: { subject?: string } = {}) {
    const lines = problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message));
    const head = options.subject ? `Invalid ${options.subject}` : 'Invalid configuration';
    super('CONFIG_INVALID', `${head}:\n${lines.join('\n')}`, { details: { problems } });
    this.problems = problems;
  }
}

export function configError(path: string, message: string): ConfigError {
  return new ConfigError([{ path, message }]);
}

function pathOf(issue: v.BaseIssue<unknown>, prefix: string): string {
  const keys = (issue.path ?? []).map((item) => String(item.key));
  return [prefix, ...keys].filter((part) => part !== '').join('.');
}

export interface ParseOptionsContext {
  /** Prefix for problem paths, e.g. `registries.gitea`. */
  path?: string;
  /** What is being validated, for the message head, e.g. `options of registry:gitea`. */
  subject?: string;
  /** Option names whose values are secret: their values are never put into a message. */
  secrets?: readonly string[];
}

/**
 * Validates adapter or engine options once, at the boundary. Every problem is reported with its
 * path; valibot's messages quote the received value only for non-secret fields.
 */
export function parseOptions<TSchema extends v.GenericSchema>(
  schema: TSchema,
  input: unknown,
  context: ParseOptionsContext = {},
): v.InferOutput<TSchema> {
  const result = v.safeParse(schema, input);
  if (result.success) return result.output;
  const secrets = new Set(context.secrets ?? []);
  const problems = result.issues.map((issue) => {
    const keys = (issue.path ?? []).map((item) => String(item.key));
    const secret = keys.some((key) => secrets.has(key));
    // A message that cannot quote the value (a custom one, about a string it does not contain) is kept.
    const quotes =
      typeof issue.input !== 'string' ||
      issue.input === '' ||
      issue.message.includes(issue.input) ||
      issue.message.includes(issue.received);
    const message =
      secret && quotes
        ? `Invalid ${issue.kind === 'schema' ? 'type' : 'value'}: Expected ${issue.expected ?? 'a valid value'}`
        : issue.message;
    return { path: pathOf(issue, context.path ?? ''), message };
  });
  throw new ConfigError(problems, context.subject ? { subject: context.subject } : {});
}
