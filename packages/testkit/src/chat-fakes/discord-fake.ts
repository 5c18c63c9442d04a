import {
  type ChatServiceFake,
  type FakeRequest,
  lengthOf,
  loadFixture,
  startFakeService,
} from './_fake-service.ts';

export type DiscordAnswer =
  | 'no_content'
  | 'message'
  | 'message_bucket_empty'
  | 'invalid_form_body'
  | 'invalid_webhook_token'
  | 'unknown_webhook'
  | 'rate_limited'
  | 'rate_limited_global';

export interface DiscordFake extends ChatServiceFake<DiscordAnswer> {
  readonly webhookId: string;
  readonly token: string;
  /** Base of the API as the notifier's `apiUrl` takes it: `<origin>/api`. */
  readonly apiUrl: string;
}

type Embed = {
  title?: unknown;
  description?: unknown;
  fields?: Array<{ name?: unknown; value?: unknown }>;
  footer?: { text?: unknown };
  author?: { name?: unknown };
};

/** Discord's embed limits: title 256, description 4096, 25 fields (256/1024), footer 2048, all embeds 6000. */
function embedsFit(embeds: Embed[]): boolean {
  if (embeds.length > 10) return false;
  let total = 0;
  for (const embed of embeds) {
    const fields = embed.fields ?? [];
    if (lengthOf(embed.title) > 256 || lengthOf(embed.description) > 4096 || fields.length > 25) return false;
    if (fields.some((field) => lengthOf(field.name) > 256 || lengthOf(field.value) > 1024)) return false;
    if (lengthOf(embed.footer?.text) > 2048 || lengthOf(embed.author?.name) > 256) return false;
    total +=
      lengthOf(embed.title) +
      lengthOf(embed.description) +
      lengthOf(embed.footer?.text) +
      lengthOf(embed.author?.name) +
      fields.reduce((sum, field) => sum + lengthOf(field.name) + lengthOf(field.value), 0);
  }
  return total <= 6000;
}

function payloadFits(request: FakeRequest): boolean {
  const body = request.json as
    | {
        content?: unknown;
        embeds?: Embed[];
        components?: Array<{ components?: Array<{ label?: unknown; url?: unknown }> }>;
      }
    | undefined;
  if (typeof body !== 'object' || body === null) return false;
  if (lengthOf(body.content) > 2000 || (!body.content && !(body.embeds?.length ?? 0))) return false;
  if (!embedsFit(body.embeds ?? [])) return false;
  return (body.components ?? []).every((row) =>
    (row.components ?? []).every((button) => lengthOf(button.label) <= 80 && lengthOf(button.url) <= 512),
  );
}

/**
 * Discord's Execute Webhook on loopback: `POST /api/webhooks/{id}/{token}[?wait=true]`; 204, or
 * 200 with the message for `wait=true`; 400 `50035` for a payload over the embed limits; 401
 * `50027` for another token; 404 `10015` for another webhook; scripted rate limits.
 */
export async function startDiscordFake(): Promise<DiscordFake> {
  const webhookId = '223344556677889900';
  const token = 'dwDiscordToken-0123456789abcdef';
  const fixture = loadFixture<DiscordAnswer>('discord');
  const fake = await startFakeService(fixture, (request) => {
    const match = /^\/api\/webhooks\/([^/]+)\/([^/]+)$/.exec(request.url.pathname);
    if (request.method !== 'POST' || !match)
      return { message: false, answer: fixture.answers.unknown_webhook };
    if (match[1] !== webhookId)
      return { message: true, answer: fixture.answers.unknown_webhook, kept: false };
    if (match[2] !== token)
      return { message: true, answer: fixture.answers.invalid_webhook_token, kept: false };
    if (!payloadFits(request))
      return { message: true, answer: fixture.answers.invalid_form_body, kept: false };
    const wait = request.url.searchParams.get('wait') === 'true';
    return { message: true, answer: wait ? fixture.answers.message : fixture.answers.no_content };
  });
  return Object.assign(fake, { webhookId, token, apiUrl: `${fake.origin}/api` });
}
