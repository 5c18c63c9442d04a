/**
 * The `rel="next"` target of a `Link` header (RFC 8288), resolved against the URL of the page that
 * carried it: registries send it relative (`</v2/a/tags/list?last=x&n=100>`, distribution, Gitea) or
 * absolute, with opaque parameters (Quay's `next_page`), so it is followed exactly as given.
 */
export function nextLink(header: string | null | undefined, base: URL): URL | undefined {
  if (!header) return undefined;
  let at = 0;
  while (at < header.length) {
    const open = header.indexOf('<', at);
    if (open < 0) return undefined;
    const close = header.indexOf('>', open + 1);
    if (close < 0) return undefined;
    const target = header.slice(open + 1, close).trim();
    // Parameters run up to the next `<` that is not inside a quoted value.
    let end = close + 1;
    let quoted = false;
    while (end < header.length) {
      const char = header.charAt(end);
      if (char === '"') quoted = !quoted;
      else if (char === '\\' && quoted) end++;
      else if (char === '<' && !quoted) break;
      end++;
    }
    const params = header.slice(close + 1, end);
    const rel = /(?:^|;)\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(params);
    const relations = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/);
    if (relations.includes('next')) {
      try {
        return new URL(target, base);
      } catch {
        return undefined;
      }
    }
    at = end;
  }
  return undefined;
}
