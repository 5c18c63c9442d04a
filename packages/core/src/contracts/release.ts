/** A release is always a tag and the digest it pointed at when chosen: containers run `image@digest`. */
export interface Release {
  readonly tag: string;
  /** `sha256:<64 hex>` */
  readonly digest: string;
}

export interface StageRef {
  readonly project: string;
  readonly stage: string;
}

const digestPattern = /^sha256:[a-f0-9]{64}$/;

export function isDigest(value: string): boolean {
  return digestPattern.test(value);
}

export function sameRelease(a: Release | undefined, b: Release | undefined): boolean {
  return a !== undefined && b !== undefined && a.digest === b.digest && a.tag === b.tag;
}

/** `registry.example.com/team/app` + release -> `registry.example.com/team/app@sha256:…` */
export function imageReference(image: string, release: Release): string {
  return `${image}@${release.digest}`;
}

export function stageKey(ref: StageRef): string {
  return `${ref.project}/${ref.stage}`;
}
