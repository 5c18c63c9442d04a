import { CoreError } from '@docker-watcher/core';

/** What nodemailer puts on its errors (docs/errors.md). */
interface SmtpFailure {
  readonly code?: unknown;
  readonly responseCode?: unknown;
  readonly message?: unknown;
}

const certificateTrouble = /certificate|self[- ]signed|unable to verify|altname/i;

/**
 * nodemailer's errors as `CoreError`s: 4xx replies (421, 450, 451, 452, 454) are the SMTP way of
 * saying "later" and are retried; 5xx replies, refused credentials, an untrusted certificate or a
 * server that cannot do the TLS asked for are not.
 */
export function smtpError(
  thrown: unknown,
  context: { readonly id: string; readonly what: string; readonly detail: (text: string) => string },
): CoreError {
  const failure = (typeof thrown === 'object' && thrown !== null ? thrown : {}) as SmtpFailure;
  const code = typeof failure.code === 'string' ? failure.code : '';
  const reply = typeof failure.responseCode === 'number' ? failure.responseCode : undefined;
  const detail = context.detail(typeof failure.message === 'string' ? failure.message : String(thrown));
  const message = `${context.id} could not ${context.what}: ${detail}`;
  const details = { notifier: context.id, ...(code ? { smtpError: code } : {}), ...(reply ? { reply } : {}) };
  if (reply !== undefined && reply >= 400 && reply < 500)
    return new CoreError('UNAVAILABLE', message, { details });
  if (code === 'EAUTH') return new CoreError('UNAUTHORIZED', message, { details });
  if (code === 'ETIMEDOUT') return new CoreError('TIMEOUT', message, { details });
  if (code === 'ETLS' || certificateTrouble.test(detail))
    return new CoreError('UNAVAILABLE', message, { details, retryable: false });
  if (code === 'ECONNECTION' || code === 'ESOCKET' || code === 'EDNS' || code === 'ECONNRESET')
    return new CoreError('UNAVAILABLE', message, { details });
  return new CoreError('BAD_REQUEST', message, { details });
}
