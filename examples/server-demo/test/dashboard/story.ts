// A small pipeline story the browser tests look at, made through the API as CI and a person would.
import type { DeployRecord } from '@docker-watcher/core';
import type { Stack } from '../../src/stack.ts';
import { finished, pendingApproval } from '../support.ts';

/**
 * `shop`: dev runs dev-1, rel runs v1.0.0 (approved), v1.1.0 waits for approval in rel, prod runs
 * nothing yet (v1.0.0 may be promoted). `blog`: dev-2 failed its health check and rolled back to dev-1.
 */
export async function tellStory(
  stack: Stack,
): Promise<{ rolledBack: DeployRecord; relDeploy: DeployRecord }> {
  // One after the other: the Docker target creates the stack's network on the first deploy, and two
  // first deploys at once may each create one (a race of the target, left to its owner).
  await stack.push('v1', 'story/shop', 'dev-1');
  await finished(stack, 'shop', 'dev', 'dev-1');
  await stack.push('v1', 'story/blog', 'dev-1');
  await finished(stack, 'blog', 'dev', 'dev-1');
  await stack.push('v2', 'story/shop', 'v1.0.0');
  const approval = await pendingApproval(stack, 'shop', 'rel');
  await stack.api(`/api/approvals/${approval.id}/approve`, { body: {} });
  const relDeploy = await finished(stack, 'shop', 'rel', 'v1.0.0');
  await stack.push('unhealthy', 'story/blog', 'dev-2');
  const rolledBack = await finished(stack, 'blog', 'dev', 'dev-2');
  await stack.push('v1', 'story/shop', 'v1.1.0');
  await pendingApproval(stack, 'shop', 'rel');
  return { rolledBack, relDeploy };
}
