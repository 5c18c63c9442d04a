import { type ChatServiceFake, loadFixture, startFakeService } from './_fake-service.ts';

export type TeamsAnswer =
  | 'accepted'
  | 'unauthorized'
  | 'not_found'
  | 'rate_limited'
  | 'rate_limited_no_header'
  | 'bad_gateway';

export interface TeamsFake extends ChatServiceFake<TeamsAnswer> {
  /** The workflow's trigger URL, with its `sig`. */
  readonly workflowUrl: string;
  /** Messages the flow would fail on after answering 202: not an Adaptive Card, or over 28 KB. */
  readonly flowFailures: readonly string[];
}

/**
 * A Teams Workflows trigger on loopback: `POST /workflows/<id>/triggers/manual/paths/invoke?…&sig=`,
 * answering 202 like the real one also when the flow will fail afterwards (recorded in
 * `flowFailures`, since the sender never sees those), 401 for another `sig`.
 */
export async function startTeamsFake(): Promise<TeamsFake> {
  const workflow = '/workflows/0f1e2d3c4b5a69788796a5b4c3d2e1f0/triggers/manual/paths/invoke';
  const sig = 'dwTeamsSig_0123456789abcdefABCDEF';
  const fixture = loadFixture<TeamsAnswer>('teams');
  const flowFailures: string[] = [];
  const fake = await startFakeService(fixture, (request) => {
    if (request.method !== 'POST' || request.url.pathname !== workflow) {
      return { message: false, answer: fixture.answers.not_found };
    }
    if (request.url.searchParams.get('sig') !== sig)
      return { message: true, answer: fixture.answers.unauthorized, kept: false };
    const body = request.json as
      | { type?: unknown; attachments?: Array<{ contentType?: unknown; content?: { type?: unknown } }> }
      | undefined;
    const card = body?.attachments?.[0];
    if (
      body?.type !== 'message' ||
      card?.contentType !== 'application/vnd.microsoft.card.adaptive' ||
      card.content?.type !== 'AdaptiveCard'
    )
      flowFailures.push('not an Adaptive Card message');
    else if (Buffer.byteLength(request.body) > 28 * 1024) flowFailures.push('Request Entity too large');
    return { message: true, answer: fixture.answers.accepted };
  });
  return Object.assign(fake, {
    workflowUrl: `${fake.origin}${workflow}?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${sig}`,
    flowFailures,
  });
}
