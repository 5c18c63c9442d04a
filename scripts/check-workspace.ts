// `pnpm conventions`: fails when a package breaks the workspace's rules.
import { checkConventions, defaultContext } from './conventions.ts';
import { workspacePackages } from './workspace.ts';

const problems = checkConventions(workspacePackages(), defaultContext());
if (problems.length > 0) {
  console.error(`Workspace conventions broken:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(`conventions: ${workspacePackages().length} packages follow the workspace rules`);
