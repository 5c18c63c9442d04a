import { compileNotificationTemplate, isCoreError, notifiableEvents } from '@docker-watcher/core';
import * as v from 'valibot';
import { isWebUrl } from './_text.ts';

const template = (which: 'title' | 'text') =>
  v.pipe(
    v.string(),
    v.minLength(1, 'must not be empty; leave it out for the default'),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      try {
        compileNotificationTemplate(dataset.value);
      } catch (error) {
        if (!isCoreError(error, 'CONFIG_INVALID')) throw error;
        const problems = (error.details.problems ?? []) as Array<{ message: string }>;
        for (const problem of problems) addIssue({ message: problem.message });
      }
    }),
    v.description(
      `Template of the ${which} of single-event messages (${which === 'title' ? 'also each line of a digest' : 'the fields stay'}), e.g. "{{project}}/{{stage}}: {{tag}}". Variables, filters and sections as the README lists them; the result is plain text.`,
    ),
  );

/** Options every channel has, besides its own. */
export const channelOptionEntries = {
  events: v.optional(
    v.pipe(
      v.array(v.picklist(notifiableEvents, `must be one of ${notifiableEvents.join(', ')}`)),
      v.minLength(1, 'must name at least one event; leave it out for all'),
      v.description(
        'Events this channel delivers at all; every notifiable event when absent (routes choose further).',
      ),
    ),
  ),
  publicUrl: v.optional(
    v.pipe(
      v.string(),
      v.check(isWebUrl, 'must be an http:// or https:// URL'),
      v.description(
        'Where people reach the dashboard: messages link to the deploy or the approvals page there.',
      ),
    ),
  ),
  titleTemplate: v.optional(template('title')),
  textTemplate: v.optional(template('text')),
  timeoutMs: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1),
      v.description('Longest one request to the service may take.'),
    ),
    10_000,
  ),
};

/** The common options as a channel receives them after validation. */
export interface ChannelOptions {
  readonly events?: readonly (typeof notifiableEvents)[number][] | undefined;
  readonly publicUrl?: string | undefined;
  readonly titleTemplate?: string | undefined;
  readonly textTemplate?: string | undefined;
  readonly timeoutMs: number;
}

/** A URL option: absolute, http or https; its value is never quoted in a message (it may hold a token). */
export const webUrl = (description: string) =>
  v.pipe(
    v.string('must be a string'),
    v.check(isWebUrl, 'must be an absolute http:// or https:// URL'),
    v.description(description),
  );
