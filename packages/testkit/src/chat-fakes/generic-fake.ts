import { type ChatServiceFake, loadFixture, startFakeService } from './_fake-service.ts';

export type GenericAnswer = 'ok' | 'no_content' | 'rate_limited_seconds' | 'server_error' | 'bad_request';

/** Any HTTP endpoint a generic webhook posts to: every request is a message, answered 200 unless scripted. */
export async function startGenericFake(): Promise<ChatServiceFake<GenericAnswer>> {
  const fixture = loadFixture<GenericAnswer>('generic');
  return startFakeService(fixture, () => ({ message: true, answer: fixture.answers.ok }));
}
