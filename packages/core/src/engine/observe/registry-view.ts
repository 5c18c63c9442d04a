import { CoreError } from '../../errors.ts';

/**
 * What the engine knows of its repositories between looks: each one's last listing, a version
 * bumped when the listing changes (part of a stage's decision fingerprint), and the digests of tags
 * resolved at that version, so that a release held for a click costs no request per cycle while
 * nothing changed. Keys are `repoKey`s.
 */
export class RegistryView {
  readonly #tags = new Map<string, string[]>();
  readonly #versions = new Map<string, number>();
  readonly #digests = new Map<string, { readonly version: number; readonly digests: Map<string, string> }>();

  /** The last listing, when there was one: decisions between cycles (API calls, webhooks) use it. */
  tags(key: string): readonly string[] | undefined {
    return this.#tags.get(key);
  }

  version(key: string): number {
    return this.#versions.get(key) ?? 0;
  }

  /** A listing of a look: a new version only when it differs from the last one. */
  listed(key: string, tags: string[]): void {
    const previous = this.#tags.get(key);
    if (!previous || previous.length !== tags.length || previous.some((tag, i) => tag !== tags[i]))
      this.#bump(key);
    this.#tags.set(key, tags);
  }

  /** A listing someone asked for (a manual deploy, a refresh): always a new version, so digests are resolved anew. */
  relisted(key: string, tags: string[]): void {
    this.#tags.set(key, tags);
    this.#bump(key);
  }

  /** Digests resolved at the current version, by tag: a new listing forgets them all (a re-push may hide behind any change). */
  digests(key: string): Map<string, string> {
    const version = this.version(key);
    let known = this.#digests.get(key);
    if (known?.version !== version) {
      known = { version, digests: new Map() };
      this.#digests.set(key, known);
    }
    return known.digests;
  }

  #bump(key: string): void {
    this.#versions.set(key, this.version(key) + 1);
  }
}

/** A tag the registry lists while its manifest does not resolve yet: the next look acts on it. */
export class TagNotLinkedYet extends CoreError {
  readonly tag: string;
  constructor(repository: string, tag: string) {
    super('UNAVAILABLE', `${tag} is listed in ${repository} but its manifest does not resolve yet`, {
      retryable: true,
      details: { repository, tag },
    });
    this.tag = tag;
  }
}
