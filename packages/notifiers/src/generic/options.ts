import * as v from 'valibot';
import { channelOptionEntries, webUrl } from '../_options.ts';

const headerName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const reservedHeaders = /^(content-length|host|transfer-encoding|connection)$/i;

export const genericNotifierOptions = v.strictObject({
  url: webUrl('Where messages are sent (its query stays as given; a secret: never logged, never in errors).'),
  method: v.optional(v.pipe(v.picklist(['POST', 'PUT', 'PATCH']), v.description('HTTP method.')), 'POST'),
  template: v.optional(
    v.pipe(
      v.picklist(['text', 'json']),
      v.description(
        '`text`: the body is the message as plain text; `json`: an object with the title and message under titleKey and messageKey, plus extraData.',
      ),
    ),
    'text',
  ),
  titleKey: v.optional(
    v.pipe(v.string(), v.minLength(1), v.description('Key of the title in a JSON body.')),
    'title',
  ),
  messageKey: v.optional(
    v.pipe(v.string(), v.minLength(1), v.description('Key of the message in a JSON body.')),
    'message',
  ),
  contentType: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[\w.+-]+\/[\w.+-]+(;.*)?$/, 'must be a media type'),
      v.description('Content-Type of the body; by template, text/plain or application/json.'),
    ),
  ),
  headers: v.optional(
    v.pipe(
      v.record(
        v.pipe(
          v.string(),
          v.regex(headerName, 'must be a valid header name'),
          v.check((name) => !reservedHeaders.test(name), 'is set by HTTP itself'),
        ),
        v.pipe(
          v.string(),
          v.check((value) => !/[\r\n\0]/.test(value), 'must not contain line breaks'),
        ),
      ),
      v.description('Extra request headers (secret: values are never logged, never in errors).'),
    ),
  ),
  extraData: v.optional(v.pipe(v.record(v.string(), v.string()), v.description('More keys of a JSON body.'))),
  ...channelOptionEntries,
});

export type GenericNotifierOptions = v.InferInput<typeof genericNotifierOptions>;
