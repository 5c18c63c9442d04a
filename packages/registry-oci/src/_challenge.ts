/** One challenge of a `WWW-Authenticate` header: `Bearer realm="…",service="…",scope="…"`. */
export interface Challenge {
  /** Lower-case scheme, e.g. `bearer` or `basic`. */
  readonly scheme: string;
  /** Parameters with lower-case names and unquoted values. */
  readonly params: Readonly<Record<string, string>>;
}

const tokenChar = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/**
 * Parses a `WWW-Authenticate` value (RFC 9110 §11.6.1), which may hold several challenges, as
 * `fetch` joins repeated headers with `, `. Quoted values may contain commas, spaces and escaped
 * quotes (`scope="repository:a/b:pull,push"`), so the value is tokenised, never split on `,`.
 */
export function parseChallenges(header: string | null | undefined): Challenge[] {
  if (!header) return [];
  const text = header;
  const challenges: Challenge[] = [];
  let at = 0;
  const char = (offset = 0) => text.charAt(at + offset);
  const skip = (pattern: RegExp) => {
    while (at < text.length && pattern.test(char())) at++;
  };
  const readToken = (): string => {
    const start = at;
    skip(tokenChar);
    return text.slice(start, at);
  };
  // Unquoted values should be tokens; realms such as `https://…` sent unquoted are read up to the next separator.
  const readBare = (): string => {
    const start = at;
    skip(/[^\s,]/);
    return text.slice(start, at);
  };
  const readQuoted = (): string => {
    at++; // the opening quote
    let value = '';
    while (at < text.length) {
      const next = text.charAt(at++);
      if (next === '"') break;
      value += next === '\\' && at < text.length ? text.charAt(at++) : next;
    }
    return value;
  };

  while (at < text.length) {
    skip(/[\s,]/);
    const scheme = readToken();
    if (!scheme) {
      at++; // not a token where a scheme must start: drop the character
      continue;
    }
    const params: Record<string, string> = {};
    challenges.push({ scheme: scheme.toLowerCase(), params });
    for (;;) {
      const mark = at;
      skip(/[\s,]/);
      const name = readToken();
      skip(/[ \t]/);
      if (!name || char() !== '=') {
        // A bare token starts the next challenge; anything else ends this one.
        at = name ? mark : Math.max(at, mark + 1);
        break;
      }
      if (char(1) === '=' || char(1) === ',' || char(1) === '') {
        skip(/=/); // token68 (`Basic dXNlcg==`): credentials, not a parameter
        continue;
      }
      at++;
      skip(/[ \t]/);
      params[name.toLowerCase()] = char() === '"' ? readQuoted() : readBare();
    }
  }
  return challenges;
}
