// Routes about label mode: the containers it found, and what each became or why it is left alone.
import * as v from 'valibot';
import { defineRoute } from './route.ts';
import { readonlyArray } from './schemas.ts';

export const labelProblemSchema = v.object({
  label: v.pipe(v.string(), v.description('The label that cannot be used, e.g. docker-watcher.auto-deploy.')),
  message: v.string(),
});

export const labelledContainerSchema = v.object({
  name: v.string(),
  id: v.string(),
  watched: v.pipe(
    v.boolean(),
    v.description('Whether it is a stage now; when not, `problems` say why and the container is left alone.'),
  ),
  project: v.optional(v.string()),
  stage: v.optional(v.string()),
  source: v.optional(
    v.pipe(
      v.picklist(['docker-watcher', 'watchtower', 'wud', 'watch-all']),
      v.description('Which labels opted it in (or label_mode.watch_all).'),
    ),
  ),
  update: v.optional(
    v.pipe(
      v.object({
        mode: v.picklist(['side-by-side', 'in-place']),
        reason: v.optional(
          v.pipe(v.string(), v.description('Why in place, e.g. fixed host port 8080->8080/tcp.')),
        ),
      }),
      v.description(
        'How an update replaces a watched container: side by side (the new one starts beside it and takes over once healthy), or in place (it stops first), from its configuration and the docker-watcher.update label.',
      ),
    ),
  ),
  problems: readonlyArray(labelProblemSchema),
});

export const labelledContainersSchema = v.pipe(
  v.object({
    enabled: v.pipe(v.boolean(), v.description('Whether label mode is on (global.label_mode.enabled).')),
    containers: readonlyArray(labelledContainerSchema),
  }),
  v.title('LabelledContainers'),
);

export type LabelledContainersView = v.InferOutput<typeof labelledContainersSchema>;

export const labelRoutes = {
  listLabelled: defineRoute({
    method: 'get',
    path: '/api/labels',
    summary:
      'The containers label mode found: the project-stage each became, or the problems (per label) for which it is left alone',
    scope: 'read',
    response: labelledContainersSchema,
  }),
} as const;
