import * as v from 'valibot';
import {
  defaultNotificationEvents,
  type NotifiableEventName,
  type NotificationEvent,
  notifiableEvents,
} from '../contracts/notifier.ts';
import { compileGlob } from '../policy/glob.ts';

const globs = (what: string) =>
  v.pipe(
    v.array(v.pipe(v.string(), v.minLength(1, 'must not be empty'))),
    v.minLength(1, `must name at least one ${what}; leave it out for all`),
    v.description(
      `Globs of the ${what}s whose events this route sends, e.g. ["web-*"]; every ${what} when absent. Events of no ${what} (adapter errors, leadership changes) pass only routes without projects and stages.`,
    ),
  );

/** Which events of which projects and stages reach a channel. */
export const notificationRoute = v.strictObject({
  events: v.optional(
    v.pipe(
      v.array(v.picklist(notifiableEvents, `must be one of ${notifiableEvents.join(', ')}`)),
      v.minLength(1, 'must name at least one event; leave it out for the defaults'),
      v.description(
        `Events this route sends; without it ${defaultNotificationEvents.join(', ')} (failures, releases waiting for a person, containers label mode leaves alone).`,
      ),
    ),
  ),
  projects: v.optional(globs('project')),
  stages: v.optional(globs('stage')),
});

export type NotificationRoute = v.InferInput<typeof notificationRoute>;

/** Whether an event passes at least one of the routes. */
export type RouteMatcher = (event: NotificationEvent) => boolean;

function placeOf(event: NotificationEvent): { project: string; stage: string } | undefined {
  return 'project' in event ? { project: event.project, stage: event.stage } : undefined;
}

/**
 * Compiles routes into one matcher. `wanted` (the notifier's own `events`) narrows every route; a
 * notifier given no routes gets every event it wants.
 */
export function compileRoutes(
  routes: readonly NotificationRoute[] | undefined,
  wanted: readonly NotifiableEventName[] = notifiableEvents,
): RouteMatcher {
  const wants = new Set(wanted);
  if (routes === undefined) return (event) => wants.has(event.type);
  const compiled = routes.map((route) => {
    const events = new Set(route.events ?? defaultNotificationEvents);
    const projects = route.projects?.map((glob) => compileGlob(glob));
    const stages = route.stages?.map((glob) => compileGlob(glob));
    return (event: NotificationEvent): boolean => {
      if (!events.has(event.type) || !wants.has(event.type)) return false;
      if (projects === undefined && stages === undefined) return true;
      const place = placeOf(event);
      if (place === undefined) return false;
      return (
        (projects === undefined || projects.some((glob) => glob.test(place.project))) &&
        (stages === undefined || stages.some((glob) => glob.test(place.stage)))
      );
    };
  });
  return (event) => compiled.some((matches) => matches(event));
}
