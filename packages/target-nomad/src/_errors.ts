import { CoreError, codeFromHttpStatus, type ErrorCode } from '@docker-watcher/core';

/** Replaces every secret value in `text` with `[redacted]`. */
export function redact(text: string, secrets: readonly string[]): string {
  return secrets
    .filter((secret) => secret !== '')
    .sort((a, b) => b.length - a.length)
    .reduce((masked, secret) => masked.replaceAll(secret, '[redacted]'), text);
}

/** One line, at most `max` characters: Nomad's plain-text errors can be long multi-error lists. */
export function clip(text: string, max = 240): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

/**
 * What a Nomad error body means. Nomad answers errors as text/plain and uses 500 for many of them
 * (check-and-set conflicts included), so the text decides before the status does.
 */
export function classifyNomadError(status: number, body: string): ErrorCode {
  if (/Enforcing job modify index|enforcing version/i.test(body)) return 'CONFLICT';
  if (/ACL token (not found|expired)|token not found/i.test(body)) return 'UNAUTHORIZED';
  if (/permission denied/i.test(body)) return 'FORBIDDEN';
  if (/has \d+\/\d+ healthy allocations|can't promote|no canaries to promote/i.test(body)) return 'CONFLICT';
  if (status === 404 || /\b(job|deployment|evaluation|allocation|job version) not found\b/i.test(body))
    return 'NOT_FOUND';
  if (status >= 500 && /validation failed|failed to parse|invalid /i.test(body)) return 'BAD_REQUEST';
  return codeFromHttpStatus(status);
}

export interface NomadFailureContext {
  /** The adapter id, e.g. `target:nomad/prod`. */
  readonly target: string;
  /** Nomad's address, without credentials. */
  readonly address: string;
  /** What was being done: `read job web-app`. */
  readonly what: string;
  readonly secrets: readonly string[];
}

/** A CoreError for an answer of Nomad with an error status. The body goes in clipped and redacted. */
export function nomadStatusError(context: NomadFailureContext, status: number, body: string): CoreError {
  const code = classifyNomadError(status, body);
  const text = clip(redact(body, context.secrets)) || `HTTP ${status}`;
  return new CoreError(code, `Nomad refused to ${context.what}: ${text}`, {
    details: { target: context.target, address: context.address, status },
  });
}
