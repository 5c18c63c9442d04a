import picomatch from 'picomatch';

export interface TagGlob {
  readonly glob: string;
  /** The glob's text before its first special character: `dev-` for `dev-*`, `v` for `v*`. */
  readonly literalPrefix: string;
  /** Whether the whole tag matches (case-sensitive, like registries). */
  test(tag: string): boolean;
}

const specialCharacter = /[*?[\]{}()!+@\\]/;

export function literalPrefixOf(glob: string): string {
  const index = glob.search(specialCharacter);
  return index === -1 ? glob : glob.slice(0, index);
}

/** Compiles a picomatch glob (`dev-*`, `v*`, `{main,release}-*`) against whole tags. */
export function compileGlob(glob: string): TagGlob {
  // `windows: false`: tags never hold paths, and the host OS must not change what a glob means.
  const pattern = picomatch.makeRe(glob, { dot: true, windows: false });
  return { glob, literalPrefix: literalPrefixOf(glob), test: (tag) => pattern.test(tag) };
}
