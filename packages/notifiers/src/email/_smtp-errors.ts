import { CoreError, networkErrorCode, networkFailure } from '@docker-watcher/core';

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
  const network = networkFailure(thrown);
  if (code === 'ETLS' || certificateTrouble.test(detail) || network?.reason === 'tls')
    return new CoreError('UNAVAILABLE', message, { details, retryable: false });
  if (network !== undefined && network.reason !== 'other') {
    const { code: mapped, retryable } = networkErrorCode(network.reason);
    return new CoreError(mapped, message, { details, retryable });
  }
  // nodemailer's own codes for a connection that failed or broke off, or a name that does not resolve.
  if (code === 'ECONNECTION' || code === 'ESOCKET' || code === 'EDNS')
    return new CoreError('UNAVAILABLE', message, { details });
  return new CoreError('BAD_REQUEST', message, { details });
}
