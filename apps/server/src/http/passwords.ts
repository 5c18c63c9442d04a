import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { compare, hash } from 'bcryptjs';

/** bcrypt cost of new hashes: about 0.3 s per check with bcryptjs on one core. */
export const passwordCost = 12;

/** bcrypt reads at most 72 bytes: longer passwords would be cut silently, so they are refused. */
const maxBytes = 72;
const minLength = 8;

/** What is wrong with a new password, or `undefined`. Never repeats the password. */
export function passwordProblem(password: string): string | undefined {
  if ([...password].length < minLength) return `a password needs at least ${minLength} characters`;
  if (Buffer.byteLength(password, 'utf8') > maxBytes)
    return `a password may have at most ${maxBytes} bytes (bcrypt ignores the rest)`;
  return undefined;
}

export const hashPassword = (password: string, cost = passwordCost): Promise<string> => hash(password, cost);

/** Whether `password` matches the bcrypt `passwordHash`; a password bcrypt would cut never does. */
export async function verifyPassword(password: string, passwordHash: string): Promise<boolean> {
  const matches = await compare(password, passwordHash);
  return matches && Buffer.byteLength(password, 'utf8') <= maxBytes;
}

/**
 * A password from `input`: from a terminal, one line typed without echo after `prompt`; from a
 * pipe, everything up to the end without its final line break.
 */
export async function readPassword(
  input: NodeJS.ReadStream,
  prompt: NodeJS.WriteStream,
  promptText = 'Password: ',
): Promise<string> {
  if (!input.isTTY) {
    let text = '';
    input.setEncoding('utf8');
    for await (const chunk of input) text += chunk as string;
    return text.replace(/\r?\n$/, '');
  }
  prompt.write(promptText);
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  const lines = createInterface({ input, output: silent, terminal: true });
  try {
    return await new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      lines.once('close', () => reject(new Error('no password given')));
    });
  } finally {
    lines.close();
    prompt.write('\n');
  }
}
