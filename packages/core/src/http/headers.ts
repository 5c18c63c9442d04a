/** Response headers by name, case-insensitive (what adapters read of `Headers`). */
export interface HeaderReader {
  get(name: string): string | null;
  has(name: string): boolean;
}

/**
 * A response's headers from `rawHeaders`, in a Map (the names come from the server); a repeated
 * header's values joined with `, `, as `Headers.get` does.
 */
export function headersOf(rawHeaders: readonly string[]): HeaderReader {
  const values = new Map<string, string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const before = values.get(name);
    values.set(name, before === undefined ? rawHeaders[i + 1]! : `${before}, ${rawHeaders[i + 1]}`);
  }
  return {
    get: (name) => values.get(name.toLowerCase()) ?? null,
    has: (name) => values.has(name.toLowerCase()),
  };
}
