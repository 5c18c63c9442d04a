import type { NotifierChannelName } from './service-urls.ts';

/** One channel's service URL as a user writes it, for the config reference and `--help` texts. */
export interface ServiceUrlExample {
  readonly channel: NotifierChannelName;
  /** The service's name as people say it. */
  readonly service: string;
  /** A URL that parses (the tokens are made up; a test reads each one). */
  readonly url: string;
  /** What the channel sends there. */
  readonly sends: string;
}

/** Every channel with an example URL in the format Shoutrrr documents, in the order of the README. */
export const serviceUrlExamples: readonly ServiceUrlExample[] = [
  {
    channel: 'slack',
    service: 'Slack',
    url: 'slack://hook:T0000000-B0000000-XXXXXXXXXXXXXXXXXXXXXXXX@webhook?botname=docker-watcher',
    sends: 'an incoming webhook message, coloured by outcome, with a link button',
  },
  {
    channel: 'discord',
    service: 'Discord',
    url: 'discord://webhooktoken@123456789012345678',
    sends: 'a webhook embed coloured by outcome, with fields',
  },
  {
    channel: 'teams',
    service: 'Microsoft Teams',
    url: 'teams://?host=https%3A%2F%2Fprod-00.westeurope.logic.azure.com%3A443%2Fworkflows%2Fabc%2Ftriggers%2Fmanual%2Fpaths%2Finvoke%3Fsig%3Dxyz',
    sends: 'an Adaptive Card through a Power Automate workflow webhook',
  },
  {
    channel: 'telegram',
    service: 'Telegram',
    url: 'telegram://123456789:AAExampleBotToken0123456789@telegram?chats=@ops_team',
    sends: 'a Bot API message (HTML, escaped) to each chat',
  },
  {
    channel: 'ntfy',
    service: 'ntfy',
    url: 'ntfy://ntfy.sh/my-deploys?priority=high&tags=rocket',
    sends: 'a JSON publish with a click URL and a view button',
  },
  {
    channel: 'gotify',
    service: 'Gotify',
    url: 'gotify://gotify.example.com/AbCdEf123456?priority=5',
    sends: 'a message with the dashboard link as its click target',
  },
  {
    channel: 'matrix',
    service: 'Matrix',
    url: 'matrix://bot:password@matrix.example.com/?rooms=%23ops:example.com',
    sends: 'an m.notice with an HTML body to each room',
  },
  {
    channel: 'email',
    service: 'email (SMTP)',
    url: 'smtp://user:password@smtp.example.com:587/?from=dw@example.com&to=ops@example.com&encryption=ExplicitTLS',
    sends: 'a text and HTML email through SMTP with STARTTLS or TLS',
  },
  {
    channel: 'generic',
    service: 'any webhook (Shoutrrr generic)',
    url: 'generic://hooks.example.com/deploys?template=json',
    sends: 'JSON with title and message (generic+http:// for plain HTTP)',
  },
  {
    channel: 'webhook',
    service: 'signed JSON webhook',
    url: 'https://hooks.example.com/docker-watcher',
    sends: 'the whole event as JSON, signed when a secret is set',
  },
];
