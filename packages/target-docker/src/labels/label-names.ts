/** The labels of label mode: what a user puts on a container they run to have it kept up to date. */
export const watchLabels = {
  /** With a scope configured, only containers whose scope label names it are watched (Watchtower's `--scope`). */
  scope: 'docker-watcher.scope',
  /** `true` opts a container in; `false` opts it out when every container is watched. */
  enable: 'docker-watcher.enable',
  /** Project and stage the container becomes; default: the container's name, stage `live`. */
  project: 'docker-watcher.project',
  stage: 'docker-watcher.stage',
  /** Regular expression(s) a tag must match / must not match, as `include`/`exclude` of a tag policy. */
  tagInclude: 'docker-watcher.tag.include',
  tagExclude: 'docker-watcher.tag.exclude',
  /** Follow the newest version tag in this semver range. */
  semver: 'docker-watcher.semver',
  /** `true` (default) deploys on its own; `false` only tells (notify-only). */
  autoDeploy: 'docker-watcher.auto-deploy',
  /** An HTTP path to probe when the image has no `HEALTHCHECK`, on `health.port`. */
  healthPath: 'docker-watcher.health.path',
  healthPort: 'docker-watcher.health.port',
  /** Seconds the old container gets to stop during an update, over its own stop timeout. */
  stopTimeout: 'docker-watcher.stop-timeout',
  /**
   * `in-place` stops the old container before the new one starts, always; `side-by-side` also lets
   * the two share writable mounts during the switch. Default: side by side where the container's
   * configuration allows it.
   */
  update: 'docker-watcher.update',
  /** Hours in which new releases are deployed on their own, e.g. `02:00-05:00` or `02:00-05:00 Europe/Berlin`. */
  schedule: 'docker-watcher.schedule',
  /** Comma-separated names of configured notification channels told about this container's deploys. */
  notify: 'docker-watcher.notify',
} as const;

/** Labels of the tools label mode replaces, understood as they are. */
export const foreignLabels = {
  watchtowerEnable: 'com.centurylinklabs.watchtower.enable',
  /** Watchtower only tells of new images: notify-only. */
  watchtowerMonitorOnly: 'com.centurylinklabs.watchtower.monitor-only',
  wudWatch: 'wud.watch',
  wudTagInclude: 'wud.tag.include',
  wudTagExclude: 'wud.tag.exclude',
  wudWatchDigest: 'wud.watch.digest',
} as const;

/** Containers the Docker target created itself carry this label: label mode leaves them to it. */
export const managedLabel = 'docker-watcher.managed';
