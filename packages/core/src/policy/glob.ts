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

const closers: Readonly<Record<string, string>> = { '[': ']', '{': '}', '(': ')' };

/**
 * picomatch reads an unclosed `[`, `{` or `(` its own way (`dev-[*` as a literal `[`, `dev-{a,b`
 * as a glob that matches nothing), so a typo would silently select no tag or the wrong ones.
 */
function unclosed(glob: string): string | undefined {
  const open: Array<{ char: string; at: number }> = [];
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!;
    if (char === '\\') {
      i++;
      continue;
    }
    const top = open[open.length - 1];
    if (top?.char === '[') {
      if (char === ']' && i > top.at + 1) open.pop();
      continue;
    }
    if (char in closers) open.push({ char, at: i });
    else if (char === '}' || char === ')') {
      if (top && closers[top.char] === char) open.pop();
      else return `"${char}" at position ${i + 1} closes nothing`;
    }
  }
  const first = open[0];
  return first ? `"${first.char}" at position ${first.at + 1} is never closed` : undefined;
}

/** Compiles a picomatch glob (`dev-*`, `v*`, `{main,release}-*`) against whole tags. */
export function compileGlob(glob: string): TagGlob {
  const problem = unclosed(glob);
  if (problem !== undefined) throw new Error(`${problem} (escape it with \\ to match it literally)`);
  // `windows: false`: tags never hold paths, and the host OS must not change what a glob means.
  const pattern = picomatch.makeRe(glob, { dot: true, windows: false });
  return { glob, literalPrefix: literalPrefixOf(glob), test: (tag) => pattern.test(tag) };
}
