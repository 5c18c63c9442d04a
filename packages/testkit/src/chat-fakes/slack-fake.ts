import {
  type ChatServiceFake,
  type FakeRequest,
  lengthOf,
  loadFixture,
  startFakeService,
} from './_fake-service.ts';

export type SlackAnswer =
  | 'ok'
  | 'invalid_payload'
  | 'invalid_token'
  | 'channel_not_found'
  | 'channel_is_archived'
  | 'rate_limited'
  | 'rollup_error';

export interface SlackFake extends ChatServiceFake<SlackAnswer> {
  /** The incoming webhook URL this fake takes messages at. */
  readonly webhookUrl: string;
}

type Block = {
  type?: string;
  text?: { text?: unknown };
  fields?: Array<{ text?: unknown }>;
  elements?: unknown[];
};

/** Whether blocks keep Block Kit's limits: at most 50, section text 3000, 10 fields of 2000, buttons 75/3000. */
function blocksFit(blocks: unknown): boolean {
  if (!Array.isArray(blocks) || blocks.length > 50) return false;
  return (blocks as Block[]).every((block) => {
    if (block.type === 'section') {
      if (block.text && lengthOf(block.text.text) > 3000) return false;
      if (
        block.fields &&
        (block.fields.length > 10 || block.fields.some((field) => lengthOf(field.text) > 2000))
      )
        return false;
      return block.text !== undefined || block.fields !== undefined;
    }
    if (block.type === 'actions') {
      return (block.elements as Array<{ text?: { text?: unknown }; url?: unknown }>).every(
        (element) => lengthOf(element.text?.text) <= 75 && lengthOf(element.url) <= 3000,
      );
    }
    return false;
  });
}

function payloadFits(request: FakeRequest): boolean {
  const body = request.json as
    | { text?: unknown; blocks?: unknown; attachments?: Array<{ blocks?: unknown }> }
    | undefined;
  if (typeof body !== 'object' || body === null) return false;
  if (typeof body.text !== 'string' && body.blocks === undefined && body.attachments === undefined)
    return false;
  if (body.blocks !== undefined && !blocksFit(body.blocks)) return false;
  return (body.attachments ?? []).every(
    (attachment) => attachment.blocks === undefined || blocksFit(attachment.blocks),
  );
}

/**
 * Slack's incoming webhook on loopback: `POST /services/T…/B…/<secret>`, answered as Slack
 * documents (200 `ok`; 400 `invalid_payload` for a payload over Block Kit's limits; 403
 * `invalid_token` for another secret), with scripted rate limits and outages.
 */
export async function startSlackFake(): Promise<SlackFake> {
  const path = '/services/T0DWTEST/B0DWTEST/dwSlackSecret0123456789';
  const fixture = loadFixture<SlackAnswer>('slack');
  const fake = await startFakeService(fixture, (request) => {
    if (request.method !== 'POST' || !request.url.pathname.startsWith('/services/'))
      return { message: false, answer: fixture.answers.channel_not_found };
    if (request.url.pathname !== path)
      return { message: true, answer: fixture.answers.invalid_token, kept: false };
    if (!payloadFits(request)) return { message: true, answer: fixture.answers.invalid_payload, kept: false };
    return { message: true, answer: fixture.answers.ok };
  });
  return Object.assign(fake, { webhookUrl: `${fake.origin}${path}` });
}
