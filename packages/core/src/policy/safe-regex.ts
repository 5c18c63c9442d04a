/**
 * Tags come from anyone who can push, and JavaScript's regex engine backtracks: a pattern with a
 * repeated group that itself repeats (`^(a+)+$`) or a repeated choice whose branches start alike
 * (`(a|ab)*`) can take exponential time on a crafted tag. Such patterns are refused up front.
 * (Tags are at most 128 characters, so the polynomial cases that remain stay cheap.)
 */
export function exponentialRegexProblem(source: string): string | undefined {
  interface Group {
    repeats: boolean;
    branches: string[];
    branchStart: boolean;
  }
  const stack: Group[] = [{ repeats: false, branches: [''], branchStart: true }];
  const top = () => stack[stack.length - 1]!;
  /** Length of a quantifier at `i` and whether it repeats (more than once). */
  const quantifier = (i: number): { length: number; repeats: boolean } => {
    const char = source[i];
    if (char === '*' || char === '+') return { length: source[i + 1] === '?' ? 2 : 1, repeats: true };
    if (char === '?') return { length: 1, repeats: false };
    if (char === '{') {
      const match = /^\{(\d+)(,(\d*))?\}\??/.exec(source.slice(i));
      if (match) {
        const max =
          match[2] === undefined
            ? Number(match[1])
            : match[3] === ''
              ? Number.POSITIVE_INFINITY
              : Number(match[3]);
        return { length: match[0].length, repeats: max > 1 };
      }
    }
    return { length: 0, repeats: false };
  };
  const noteAtom = (text: string) => {
    const group = top();
    if (group.branchStart) {
      group.branches[group.branches.length - 1] = text;
      group.branchStart = false;
    }
  };
  for (let i = 0; i < source.length; i++) {
    const char = source[i]!;
    let atom: string | undefined;
    if (char === '\\') {
      atom = source.slice(i, i + 2);
      i++;
    } else if (char === '[') {
      const start = i;
      for (i++; i < source.length && source[i] !== ']'; i++) if (source[i] === '\\') i++;
      atom = source.slice(start, i + 1);
    } else if (char === '(') {
      // Lookarounds and non-capturing or named groups: skip their prefix.
      const prefix = /^\(\?(?:[:=!]|<[=!]|<[A-Za-z_][A-Za-z0-9_]*>)?/.exec(source.slice(i))?.[0] ?? '(';
      noteAtom('(');
      stack.push({ repeats: false, branches: [''], branchStart: true });
      i += prefix.length - 1;
      continue;
    } else if (char === '|') {
      top().branches.push('');
      top().branchStart = true;
      continue;
    } else if (char === ')') {
      const group = stack.length > 1 ? stack.pop()! : top();
      const q = quantifier(i + 1);
      if (q.repeats && group.repeats) return 'a repeated group repeats inside (like (a+)+)';
      const starts = group.branches.filter(
        (b) => b !== '' && !b.startsWith('\\') && b !== '.' && !b.startsWith('['),
      );
      if (q.repeats && group.branches.length > 1 && new Set(starts).size < starts.length)
        return 'a repeated choice has branches that start alike (like (a|ab)*)';
      if (q.repeats || group.repeats) top().repeats = true;
      i += q.length;
      continue;
    } else if ('*+?{'.includes(char) && quantifier(i).length > 0) {
      continue;
    } else if (char !== '^' && char !== '$') atom = char;
    if (atom === undefined) continue;
    noteAtom(atom);
    const q = quantifier(i + 1);
    if (q.repeats) top().repeats = true;
    i += q.length;
  }
  return undefined;
}
