import * as v from 'valibot';
import { channelOptionEntries } from '../_options.ts';

// Local domains (ops@localhost) are fine: the SMTP server decides what it delivers.
const address = v.pipe(v.string(), v.regex(/^[^\s@<>]+@[^\s@<>]+$/, 'must be an email address'));

export const emailNotifierOptions = v.strictObject({
  host: v.pipe(v.string(), v.minLength(1), v.description('The SMTP server.')),
  port: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1),
      v.maxValue(65_535),
      v.description('The SMTP port; 465 with `encryption: tls`, else 25.'),
    ),
  ),
  encryption: v.optional(
    v.pipe(
      v.picklist(['auto', 'starttls', 'tls', 'none']),
      v.description(
        '`auto`: TLS from the first byte on port 465, else STARTTLS when the server offers it; `starttls`: STARTTLS or no mail (never in plain text); `tls`: TLS from the first byte (SMTPS); `none`: never TLS.',
      ),
    ),
    'auto',
  ),
  username: v.optional(v.pipe(v.string(), v.minLength(1), v.description('User for SMTP AUTH.'))),
  password: v.optional(
    v.pipe(
      v.string(),
      v.minLength(1),
      v.description('Password for SMTP AUTH (a secret: never logged, never in errors).'),
    ),
  ),
  authMethod: v.optional(
    v.pipe(
      v.picklist(['PLAIN', 'LOGIN', 'CRAM-MD5']),
      v.description('SMTP AUTH mechanism; PLAIN by default.'),
    ),
  ),
  from: v.pipe(address, v.description('Sender address.')),
  fromName: v.optional(v.pipe(v.string(), v.minLength(1), v.description('Sender name.'))),
  to: v.pipe(v.array(address), v.minLength(1, 'needs at least one recipient'), v.description('Recipients.')),
  html: v.optional(v.pipe(v.boolean(), v.description('Send an HTML part besides the plain text.')), true),
  clientHost: v.optional(
    v.pipe(v.string(), v.minLength(1), v.description('Name given in EHLO; the machine name by default.')),
  ),
  tlsCa: v.optional(
    v.pipe(
      v.string(),
      v.includes('-----BEGIN CERTIFICATE-----', 'must be a PEM certificate'),
      v.description('Trust this certificate authority (PEM) for a server with a private certificate.'),
    ),
  ),
  tlsVerify: v.optional(
    v.pipe(
      v.boolean(),
      v.description(
        'Verify the server certificate; turn off only for a server you reach over a trusted network.',
      ),
    ),
    true,
  ),
  ...channelOptionEntries,
});

export type EmailNotifierOptions = v.InferInput<typeof emailNotifierOptions>;
