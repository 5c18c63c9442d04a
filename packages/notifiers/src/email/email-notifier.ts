import {
  type AdapterContext,
  CoreError,
  defineNotifier,
  instantiate,
  type Notifier,
} from '@docker-watcher/core';
import type { SendMailOptions, Transporter } from 'nodemailer';
import type * as v from 'valibot';
import { createChannelNotifier } from '../_channel.ts';
import { smtpError } from './_smtp-errors.ts';
import { type EmailNotifierOptions, emailNotifierOptions } from './options.ts';
import { renderEmailMessage } from './render.ts';

type Options = v.InferOutput<typeof emailNotifierOptions>;

/** nodemailer is an optional peer: only users of this channel install it, and it loads at the first mail. */
async function loadNodemailer(id: string): Promise<typeof import('nodemailer')> {
  try {
    const loaded = (await import('nodemailer')) as typeof import('nodemailer') & {
      default?: typeof import('nodemailer');
    };
    return loaded.default ?? loaded;
  } catch (error) {
    throw new CoreError(
      'UNSUPPORTED',
      `${id} needs the nodemailer package: install it next to @docker-watcher/notifiers (npm install nodemailer)`,
      {
        cause: error,
        retryable: false,
      },
    );
  }
}

function transportOptions(options: Options) {
  const secure = options.encryption === 'tls' || (options.encryption === 'auto' && options.port === 465);
  return {
    host: options.host,
    port: options.port ?? (options.encryption === 'tls' ? 465 : 25),
    secure,
    requireTLS: options.encryption === 'starttls',
    ignoreTLS: options.encryption === 'none',
    ...(options.username ? { auth: { user: options.username, pass: options.password ?? '' } } : {}),
    ...(options.authMethod ? { authMethod: options.authMethod } : {}),
    ...(options.clientHost ? { name: options.clientHost } : {}),
    tls: {
      rejectUnauthorized: options.tlsVerify,
      ...(options.tlsCa ? { ca: options.tlsCa } : {}),
      servername: options.host,
    },
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  };
}

/** Resolves with the send, or rejects with ABORTED as soon as the signal fires (closing the connection). */
function sendOrAbort(
  transport: Transporter,
  mail: SendMailOptions,
  signal: AbortSignal,
  id: string,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      transport.close();
      reject(new CoreError('ABORTED', `${id}: sending the mail was aborted`, { cause: signal.reason }));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    transport.sendMail(mail).then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function buildEmailNotifier(options: Options, context: AdapterContext) {
  return createChannelNotifier({
    name: 'email',
    options,
    context,
    secrets: [options.password],
    transport: ({ id, http }) => ({
      async send({ message, what, signal }) {
        const nodemailer = await loadNodemailer(id);
        const mail = renderEmailMessage(message);
        // One connection per mail: notifications are rare, and nothing stays open between them.
        const transport = nodemailer.createTransport(transportOptions(options));
        try {
          await sendOrAbort(
            transport,
            {
              from: options.fromName ? { name: options.fromName, address: options.from } : options.from,
              to: options.to,
              subject: mail.subject,
              text: mail.text,
              ...(options.html ? { html: mail.html } : {}),
              headers: { 'X-Docker-Watcher-Event': message.types.join(', ') },
            },
            signal,
            id,
          );
        } catch (error) {
          if (error instanceof CoreError) throw error;
          throw smtpError(error, { id, what, detail: http.detail });
        } finally {
          transport.close();
        }
      },
    }),
  });
}

export const emailNotifier = defineNotifier({
  name: 'email',
  options: emailNotifierOptions,
  secrets: ['password'],
  create: buildEmailNotifier,
});

/** Sends mail over SMTP (STARTTLS or TLS, AUTH) through nodemailer, an optional peer dependency. */
export function createEmailNotifier(options: EmailNotifierOptions, context: AdapterContext = {}): Notifier {
  return instantiate(emailNotifier, options, context);
}
