/**
 * The OCI distribution spec's tag grammar. Anything else (empty strings, unicode, spaces, 129+
 * characters) cannot be pulled, so no policy ever picks it, even when a glob would match it.
 */
const tagNamePattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * Cosign/notation artefacts and the referrers fallback tag: `sha256-<hex>`, `sha256-<hex>.sig`,
 * `….att`, `….sbom`. They sit beside the image's real tags but are never images to run.
 */
const digestTagPattern = /^sha(?:256|384|512)-[0-9a-fA-F]+(?:\.[A-Za-z0-9]+)?$/;
const artefactSuffixPattern = /\.(?:sig|att|sbom)$/;

/**
 * Only full 40-hex git commit ids count as git SHA tags. Short SHAs (7–12 hex) are
 * indistinguishable from build numbers and dates (`20261101` is valid hex), so ignoring them would
 * silently drop real tags; CI setups that push short SHAs use a glob or regex to exclude them.
 */
const gitShaPattern = /^[0-9a-fA-F]{40}$/;

export function isValidTagName(tag: string): boolean {
  return tagNamePattern.test(tag);
}

export function isGitShaTag(tag: string): boolean {
  return tag.length === 40 && gitShaPattern.test(tag);
}

/** Digests, signatures, attestations and SBOMs published as tags. */
export function isArtefactTag(tag: string): boolean {
  return artefactSuffixPattern.test(tag) || (tag.startsWith('sha') && digestTagPattern.test(tag));
}

export interface IgnoredTagOptions {
  /** Lets 40-hex git SHA tags through; off by default. */
  allowGitShas: boolean;
}

/**
 * True for tags that no policy except a pin selects: invalid tag names, digest and signature
 * tags, and (unless allowed) git SHA tags.
 */
export function isIgnoredTag(tag: string, options: IgnoredTagOptions): boolean {
  if (!isValidTagName(tag) || isArtefactTag(tag)) return true;
  return !options.allowGitShas && isGitShaTag(tag);
}
