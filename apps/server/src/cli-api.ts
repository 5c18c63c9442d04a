/** The CLI's door to a running server's API: every failure becomes a `CliError` that says what to check. */

/** A failure the CLI reports: a code (as the API's), a message for people, an exit code. */
export class CliError extends Error {
  readonly code: string;
  readonly exitCode: number;
  /** Said as it is, without its code in front (usage errors, a refused password). */
  readonly plain: boolean;
  constructor(code: string, message: string, exitCode = 1, options: { plain?: boolean } = {}) {
    super(message);
    this.code = code;
    this.exitCode = exitCode;
    this.plain = options.plain ?? exitCode === 2;
  }
}

export interface ApiClient {
  readonly base: string;
  readonly token: string | undefined;
  request<T = Record<string, unknown>>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T>;
}

/** Why a connection failed, from undici's error chain (`ECONNREFUSED`, `ENOTFOUND`…). */
function networkCode(error: unknown): string | undefined {
  for (let at: unknown = error; at instanceof Error; at = (at as { cause?: unknown }).cause) {
    const code = (at as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

export function unreachable(base: string, error: unknown): CliError {
  const code = networkCode(error);
  return new CliError(
    'UNAVAILABLE',
    `cannot reach the server at ${base}${code ? ` (${code})` : ''}: is \`docker-watcher serve\` running there? Check --url or DOCKER_WATCHER_URL`,
  );
}

/** An error answer of the API as a `CliError`, with what to do about 401 and 403. */
export async function answerError(
  base: string,
  token: string | undefined,
  response: Response,
): Promise<CliError> {
  const body = (await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  const message = body.error?.message ?? `the server answered ${response.status}`;
  if (response.status === 401)
    return new CliError(
      'UNAUTHORIZED',
      token
        ? `the server at ${base} refused the token (401): check --token or DOCKER_WATCHER_TOKEN`
        : `the server at ${base} needs a token (401): pass --token or set DOCKER_WATCHER_TOKEN`,
    );
  if (response.status === 403)
    return new CliError('FORBIDDEN', `${message} (403): use a token with the needed scope`);
  return new CliError(body.error?.code ?? `HTTP_${response.status}`, message);
}

export function createApiClient(base: string, token: string | undefined): ApiClient {
  const root = base.replace(/\/+$/, '');
  return {
    base: root,
    token,
    async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
      let response: Response;
      try {
        response = await fetch(`${root}${path}`, {
          method,
          headers: {
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
          },
          ...(method === 'POST' ? { body: JSON.stringify(body ?? {}) } : {}),
        });
      } catch (error) {
        throw unreachable(root, error);
      }
      if (!response.ok) throw await answerError(root, token, response);
      try {
        return (await response.json()) as T;
      } catch {
        throw new CliError(
          'BAD_RESPONSE',
          `the server at ${root} answered ${path} with something that is not JSON: is it Docker Watcher?`,
        );
      }
    },
  };
}

export const segment = (value: string) => encodeURIComponent(value);
export const stagePath = (project: string, stage: string) =>
  `/api/projects/${segment(project)}/stages/${segment(stage)}`;
