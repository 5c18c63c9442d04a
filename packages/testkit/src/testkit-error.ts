/**
 * A failure of the test infrastructure itself (no engine, a port in use, a fixture that does not
 * build): says what is wrong and what to do about it, so a newcomer is never left with a stack trace.
 */
export class TestkitError extends Error {
  override readonly name = 'TestkitError';
  readonly hint: string;

  constructor(problem: string, hint: string, options?: { cause?: unknown }) {
    super(`${problem}\n  → ${hint}`, options);
    this.hint = hint;
  }
}

export function isTestkitError(value: unknown): value is TestkitError {
  return value instanceof Error && value.name === 'TestkitError';
}
