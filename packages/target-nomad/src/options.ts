import * as v from 'valibot';

const nonEmpty = v.pipe(v.string(), v.minLength(1));

const milliseconds = (min: number, max: number) =>
  v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max));

/** PEM text, or a path to a PEM file read once when the target is created. */
const pemOrPath = (what: string) =>
  v.pipe(
    nonEmpty,
    v.description(
      `${what}: PEM text (\`-----BEGIN …\`) or the path of a PEM file, read when the target is created.`,
    ),
  );

const promoteMode = v.picklist(['auto', 'confirm']);

/** Where the reverse proxy reaches a job: a load balancer, a Consul DNS name or a fixed Nomad service address. */
const endpointSchema = v.strictObject({
  host: v.pipe(
    nonEmpty,
    v.description(
      'Host name or address, e.g. `web-app.service.consul` or a load balancer; `{project}` and `{stage}` are replaced.',
    ),
  ),
  port: v.pipe(
    v.number(),
    v.integer(),
    v.minValue(1),
    v.maxValue(65_535),
    v.description('Port at that host.'),
  ),
});

export const nomadJobBinding = v.strictObject({
  job: v.pipe(
    v.string(),
    v.regex(/^[^\s/?#]+$/, 'must be a Nomad job id (no spaces, `/`, `?` or `#`)'),
    v.description(
      'Id of the Nomad job that runs this project-stage (registrywatcher’s `repo_map`); `{project}` and `{stage}` are replaced, e.g. `{project}-{stage}`.',
    ),
  ),
  group: v.optional(
    v.pipe(
      nonEmpty,
      v.description('Task group whose task gets the image. Needed when the job has several groups.'),
    ),
  ),
  task: v.optional(
    v.pipe(
      nonEmpty,
      v.description(
        'Task whose `config.image` is set. Needed when the group has several tasks with an image (sidecars).',
      ),
    ),
  ),
  promote: v.optional(v.pipe(promoteMode, v.description('Overrides the top-level `promote` for this job.'))),
  endpoint: v.optional(
    v.pipe(
      endpointSchema,
      v.description(
        'Where the reverse proxy reaches this job once deployed. Without it, instances have no endpoint and the engine cannot switch a proxy route to them.',
      ),
    ),
  ),
});

/** One entry of `jobs`, as written by users. */
export type NomadJobBinding = v.InferInput<typeof nomadJobBinding>;

const jobKey = v.pipe(
  v.string(),
  v.regex(/^(\*|[^/\s*]+(\/[^/\s*]+)?)$/, 'must be `project/stage`, `project` or `*`'),
);

export const nomadTargetOptions = v.strictObject({
  address: v.optional(
    v.pipe(
      v.string(),
      v.url('must be a URL such as `http://127.0.0.1:4646`'),
      v.regex(/^https?:\/\//, 'must be an http:// or https:// URL'),
      v.description('HTTP address of a Nomad server or client agent, as `NOMAD_ADDR`.'),
    ),
    'http://127.0.0.1:4646',
  ),
  token: v.optional(
    v.pipe(
      nonEmpty,
      v.description(
        'ACL token (secret id) sent as `X-Nomad-Token`. A secret: never logged, never in errors. Needs `submit-job` and `read-job` in the namespace, and `list-jobs` for `list`.',
      ),
    ),
  ),
  namespace: v.optional(
    v.pipe(nonEmpty, v.description('Nomad namespace of the jobs; Nomad’s `default` when unset.')),
  ),
  region: v.optional(
    v.pipe(nonEmpty, v.description('Nomad region to talk to; the agent’s own region when unset.')),
  ),
  tls: v.optional(
    v.pipe(
      v.strictObject({
        ca: v.optional(pemOrPath('CA certificate the Nomad server certificate is checked against')),
        cert: v.optional(pemOrPath('Client certificate for mutual TLS (`verify_https_client`)')),
        key: v.optional(pemOrPath('Client private key (a secret: never logged, never in errors)')),
        serverName: v.optional(
          v.pipe(
            nonEmpty,
            v.description(
              'Name checked in the server certificate instead of the address host, e.g. `server.global.nomad`.',
            ),
          ),
        ),
      }),
      v.check((tls) => (tls.cert === undefined) === (tls.key === undefined), '`cert` and `key` go together'),
      v.description(
        'TLS settings for an https:// `address` (as `NOMAD_CACERT`, `NOMAD_CLIENT_CERT`, `NOMAD_CLIENT_KEY`).',
      ),
    ),
  ),
  vaultToken: v.optional(
    v.pipe(
      nonEmpty,
      v.description(
        'Vault token passed through as the job’s `VaultToken` on register and revert, for jobs using the legacy Vault integration. A secret.',
      ),
    ),
  ),
  jobs: v.optional(
    v.pipe(
      v.record(jobKey, nomadJobBinding),
      v.description(
        'Deprecated: give each stage its job in its own options (`job`, `group`, `task`, `promote`, `endpoint`; the server: `projects.<p>.stages.<s>.target`). Read until the next minor release: the Nomad job of each project-stage, by `project/stage`, `project` (every stage) or `*` (everything else); the most specific key wins, and the stage’s own options win over all.',
      ),
    ),
  ),
  promote: v.optional(
    v.pipe(
      promoteMode,
      v.description(
        'Canaries waiting for promotion: `auto` promotes them once they are all healthy; `confirm` returns the candidate once they are, and the engine opens an approval after its health gate: approving it (`POST /api/approvals/:id/approve`) promotes them and follows the deployment to its end, rejecting it reverts the job.',
      ),
    ),
    'auto',
  ),
  plan: v.optional(
    v.pipe(
      v.boolean(),
      v.description(
        'Plan each registration first (`/v1/job/:id/plan`) and record the diff in the deploy log.',
      ),
    ),
    false,
  ),
  deploymentTimeoutMs: v.optional(
    v.pipe(
      milliseconds(1, 24 * 60 * 60 * 1_000),
      v.description(
        'How long `start` follows a deployment. One still unfinished then is failed and the job reverted. Keep it above the jobs’ `progress_deadline` so that Nomad decides first.',
      ),
    ),
    15 * 60 * 1_000,
  ),
  blockingQueryWaitMs: v.optional(
    v.pipe(
      milliseconds(1, 10 * 60 * 1_000),
      v.description('`wait` of each blocking query while following an evaluation or a deployment.'),
    ),
    30_000,
  ),
  requestTimeoutMs: v.optional(
    v.pipe(
      milliseconds(1, 10 * 60 * 1_000),
      v.description('How long one request may take (on top of the `wait` of a blocking query).'),
    ),
    15_000,
  ),
});

/** Options of `createNomadTarget`, as written by users (defaults not yet applied). */
export type NomadTargetOptions = v.InferInput<typeof nomadTargetOptions>;

/** Options after validation, defaults applied. */
export type ResolvedNomadTargetOptions = v.InferOutput<typeof nomadTargetOptions>;

/** Option names whose values are never echoed in errors or logs. */
export const nomadTargetSecrets: readonly string[] = ['token', 'vaultToken', 'key'];
