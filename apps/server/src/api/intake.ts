// Routes that take pushes from outside: registry webhooks, and registrywatcher's API kept for its users.
import * as v from 'valibot';
import { registryQuery, registryWatcherBody } from './bodies.ts';
import { defineRoute } from './route.ts';
import { readonlyArray } from './schemas.ts';

export const webhookSourceSchema = v.picklist(['gitea', 'github', 'registry']);

const repoSchema = v.object({
  auto_deploy: v.boolean(),
  pinned_tag: v.pipe(v.string(), v.description('"" when unpinned.')),
  pinned_tag_value: v.pipe(
    v.string(),
    v.description('The tag that stands for now: the pin, or the newest allowed.'),
  ),
  tags: readonlyArray(v.string()),
  project: v.string(),
  stage: v.string(),
  deployed_tag: v.string(),
  deployed_digest: v.string(),
});

const repoParams = v.object({
  repo: v.pipe(v.string(), v.description('`<project>.<stage>`, or `<project>` when it has one stage.')),
});

const pong = v.object({ message: v.literal('pong') });

export const intakeRoutes = {
  webhook: defineRoute({
    method: 'post',
    path: '/api/webhook/{source}',
    summary:
      'Registry webhooks: gitea (X-Gitea-Signature), github (X-Hub-Signature-256), registry (OCI notifications, shared secret header)',
    scope: null,
    params: v.object({ source: webhookSourceSchema }),
    query: registryQuery,
    status: 202,
    response: v.object({ accepted: v.number() }),
    errors: { '401': 'Forged or unsigned webhook', '413': 'Body over the limit' },
  }),
  ping: defineRoute({
    method: 'get',
    path: '/ping',
    summary: 'registrywatcher: { message: "pong" }',
    scope: null,
    response: pong,
  }),
  pingSlash: defineRoute({
    method: 'get',
    path: '/ping/',
    summary: 'registrywatcher: { message: "pong" }',
    scope: null,
    response: pong,
  }),
  listRepos: defineRoute({
    method: 'get',
    path: '/repos',
    summary: 'registrywatcher: { <repo>: { auto_deploy, pinned_tag, pinned_tag_value, tags } }',
    scope: 'read',
    errorShape: 'registrywatcher',
    response: v.record(v.string(), repoSchema),
  }),
  getRepoTag: defineRoute({
    method: 'get',
    path: '/tags/{repo}',
    summary: 'registrywatcher: { repo_tag }, the tag the pin stands for',
    scope: 'read',
    errorShape: 'registrywatcher',
    params: repoParams,
    response: v.object({ repo_tag: v.string(), ...repoSchema.entries }),
  }),
  setRepoTag: defineRoute({
    method: 'post',
    path: '/tags/{repo}',
    summary: 'registrywatcher: set pinned_tag / auto_deploy, then deploy; { message, deploy_id }',
    scope: 'deploy',
    errorShape: 'registrywatcher',
    params: repoParams,
    body: registryWatcherBody,
    response: v.object({ message: v.string(), deploy_id: v.string(), ...repoSchema.entries }),
  }),
  resetRepoTag: defineRoute({
    method: 'post',
    path: '/tags/{repo}/reset',
    summary: 'registrywatcher: pinned_tag back to "" (auto_deploy unchanged); { message }',
    scope: 'deploy',
    errorShape: 'registrywatcher',
    params: repoParams,
    response: v.object({ message: v.string(), ...repoSchema.entries }),
  }),
} as const;
