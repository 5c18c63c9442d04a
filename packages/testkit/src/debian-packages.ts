import { existsSync } from 'node:fs';
import { isRoot, runCommand } from './command.ts';
import { TestkitError } from './testkit-error.ts';

let updated = false;

/**
 * Makes sure a Debian package's file is present, installing the package with apt-get when we
 * are root. `file` is what we actually need from the package (a binary, usually).
 */
export async function ensureDebianPackage(pkg: string, file: string): Promise<string> {
  if (existsSync(file)) return file;
  if (!isRoot()) {
    throw new TestkitError(
      `${file} is missing and installing Debian's ${pkg} needs root.`,
      `Run "sudo apt-get install -y ${pkg}", or run the tests as root.`,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Test workers may install at the same time: wait for dpkg's lock instead of failing on it.
  const wait = ['-o', 'DPkg::Lock::Timeout=300'];
  let result = await runCommand('apt-get', [...wait, 'install', '-y', '-q', pkg], { env });
  if (result.code !== 0 && !updated) {
    updated = true;
    await runCommand('apt-get', [...wait, 'update', '-q'], { env });
    result = await runCommand('apt-get', [...wait, 'install', '-y', '-q', pkg], { env });
  }
  if (result.code !== 0 || !existsSync(file)) {
    const tail = result.stderr.trim().split('\n').slice(-3).join(' | ');
    throw new TestkitError(
      `Installing Debian's ${pkg} failed (${tail || `exit ${result.code}`}).`,
      "Check that Debian's package repositories are reachable (apt-get update), or install the package by hand.",
    );
  }
  return file;
}
