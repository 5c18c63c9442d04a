import { foreignLabels, watchLabels } from './label-names.ts';

/** What `docker-watcher migrate-labels` prints for one container. */
export interface LabelMigration {
  /** The native labels that do what the container's Watchtower / What's Up Docker labels did. */
  readonly labels: Readonly<Record<string, string>>;
  /** Foreign labels with no native equivalent, or that need a look, each with why. */
  readonly notes: readonly string[];
}

const truthy = (value: string | undefined) => value?.trim().toLowerCase() === 'true';
const falsy = (value: string | undefined) => value?.trim().toLowerCase() === 'false';

/**
 * The native labels equivalent to a container's Watchtower and What's Up Docker labels;
 * `undefined` when it has none of theirs. Native labels it has already win.
 */
export function migrateLabels(labels: Readonly<Record<string, string>>): LabelMigration | undefined {
  const out: Record<string, string> = {};
  const notes: string[] = [];
  const watchtower = labels[foreignLabels.watchtowerEnable];
  const wud = labels[foreignLabels.wudWatch];
  const wudKeys = Object.keys(labels).filter((key) => key.startsWith('wud.'));
  if (watchtower === undefined && wudKeys.length === 0) return undefined;
  if (truthy(watchtower) || truthy(wud)) out[watchLabels.enable] = 'true';
  else if (falsy(watchtower) || falsy(wud)) out[watchLabels.enable] = 'false';
  const include = labels[foreignLabels.wudTagInclude];
  const exclude = labels[foreignLabels.wudTagExclude];
  const digest = truthy(labels[foreignLabels.wudWatchDigest]);
  // What's Up Docker follows newer semver tags; with digest watching, the running tag's digest.
  if (include !== undefined && !digest) out[watchLabels.semver] = '*';
  if (include !== undefined) out[watchLabels.tagInclude] = include;
  if (exclude !== undefined) out[watchLabels.tagExclude] = exclude;
  if (digest) notes.push(`${foreignLabels.wudWatchDigest}: watching the running tag's digest is the default`);
  if (truthy(labels[foreignLabels.watchtowerMonitorOnly])) out[watchLabels.autoDeploy] = 'false';
  const known = new Set<string>(Object.values(foreignLabels));
  for (const key of [
    ...wudKeys,
    ...Object.keys(labels).filter((k) => k.startsWith('com.centurylinklabs.watchtower.')),
  ])
    if (!known.has(key)) notes.push(`${key}: no native equivalent; left out`);
  for (const key of Object.keys(out)) if (labels[key] !== undefined) delete out[key];
  return { labels: out, notes };
}
