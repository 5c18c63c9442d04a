import type { LabelledContainersView, labelRoutes } from '../../api/labels.ts';
import type { Handlers } from '../register.ts';

/** Label mode's containers as the server sees them now; off, an empty list. */
export function labelHandlers(
  labels: (() => LabelledContainersView) | undefined,
): Handlers<typeof labelRoutes> {
  return {
    listLabelled: () => labels?.() ?? { enabled: false, containers: [] },
  };
}
