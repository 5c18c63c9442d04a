import {
  CoreError,
  codeFromHttpStatus,
  type ErrorCode,
  isCoreError,
  type NetworkFailure,
  networkFailure,
} from '@docker-watcher/core';

/** What dockerode (docker-modem) rejects with: an HTTP status and the engine's JSON body, or a socket error. */
interface EngineFailure {
  readonly statusCode?: number;
  readonly json?: { readonly message?: string } | string | null;
  readonly code?: string;
  readonly message?: string;
  readonly name?: string;
}

/** Why the engine could not be reached, in words a deploy record can show. */
function unreachableReason({ code, reason }: NetworkFailure): string {
  if (reason === 'refused') return 'it refused the connection, so the daemon is stopped or restarting';
  if (reason === 'reset')
    return 'the connection broke off, so the daemon stopped or restarted during the call';
  if (reason === 'timeout') return 'it did not answer in time';
  if (reason === 'unreachable') return 'there is no route to its host';
  if (reason === 'dns') return 'its host name does not resolve';
  if (code === 'EACCES') return 'permission to its socket was denied';
  return 'its socket does not exist, so the daemon is stopped or restarting';
}

/** The socket failure that kept the engine from answering at all, if that is what happened. */
function unreachableFailure(error: unknown): NetworkFailure | undefined {
  if (statusOf(error) !== undefined) return undefined;
  const failure = networkFailure(error);
  // A TLS failure is a configuration to fix, not an engine that is down.
  return failure?.reason === 'other' || failure?.reason === 'tls' ? undefined : failure;
}

export function statusOf(error: unknown): number | undefined {
  const status = (error as EngineFailure | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** The engine's own message (`{"message": …}`), without docker-modem's `(HTTP code 404) …` prefix. */
export function engineMessage(error: unknown): string {
  const failure = (error ?? {}) as EngineFailure;
  const json = failure.json;
  if (json && typeof json === 'object' && typeof json.message === 'string') return json.message.trim();
  if (typeof json === 'string' && json.trim() !== '') return json.trim();
  return String(failure.message ?? error).trim();
}

/** Whether the engine could not be reached at all (socket missing, refused, reset). */
export function isUnreachable(error: unknown): boolean {
  return unreachableFailure(error) !== undefined;
}

const clip = (text: string, max = 300) => (text.length > max ? `${text.slice(0, max)}…` : text);

export interface MapContext {
  /** What was being done, e.g. `start dw-web-dev-v1-abc`. */
  readonly action: string;
  /** Where the engine is, for the unreachable message. */
  readonly engine: string;
  readonly target: string;
  readonly signal?: AbortSignal | undefined;
  /** Strings that must never appear in a message (registry passwords). */
  readonly secrets?: readonly string[];
  /** A more specific code for an engine message, before the status decides. */
  readonly classify?: (message: string) => ErrorCode | undefined;
}

export function redact(text: string, secrets: readonly string[] = []): string {
  return secrets
    .filter((secret) => secret !== '')
    .reduce((masked, secret) => masked.replaceAll(secret, '[redacted]'), text);
}

/** Maps anything dockerode throws onto a CoreError with a one-line, secret-free message. */
export function toTargetError(error: unknown, context: MapContext): CoreError {
  if (isCoreError(error)) return error;
  const details = { target: context.target, action: context.action };
  const failure = (error ?? {}) as EngineFailure;
  if (context.signal?.aborted || failure.name === 'AbortError') {
    return new CoreError('ABORTED', `${context.action} was aborted`, { details, cause: error });
  }
  const unreachable = unreachableFailure(error);
  if (unreachable) {
    return new CoreError(
      'UNAVAILABLE',
      `The Docker Engine at ${context.engine} is unreachable during ${context.action}: ${unreachableReason(unreachable)} (${unreachable.code})`,
      { details: { ...details, errno: unreachable.code }, cause: error },
    );
  }
  const status = statusOf(error);
  const message = clip(redact(engineMessage(error), context.secrets));
  const code =
    context.classify?.(message) ?? (status === undefined ? 'UNAVAILABLE' : codeFromHttpStatus(status));
  return new CoreError(code, `${context.action} failed: ${message}`, {
    details: { ...details, ...(status === undefined ? {} : { status }) },
    cause: error,
  });
}

/** Why a container could not start, in words a deploy record can show. */
export function classifyStartFailure(message: string): ErrorCode | undefined {
  if (/port is already allocated|address already in use|bind: /i.test(message)) return 'CONFLICT';
  if (/no such image|not found/i.test(message)) return 'NOT_FOUND';
  if (/invalid|mount|no such file or directory|executable file not found/i.test(message))
    return 'BAD_REQUEST';
  return undefined;
}

/** Why a pull failed: the registry's answer, as the engine relays it. */
export function classifyPullFailure(message: string): ErrorCode {
  if (/toomanyrequests|rate limit/i.test(message)) return 'RATE_LIMITED';
  if (
    /unauthorized|authentication required|no basic auth credentials|denied|incorrect username or password/i.test(
      message,
    )
  )
    return 'UNAUTHORIZED';
  if (/manifest unknown|not found|unknown blob|does not exist|no such image|name unknown/i.test(message))
    return 'NOT_FOUND';
  return 'UNAVAILABLE';
}
