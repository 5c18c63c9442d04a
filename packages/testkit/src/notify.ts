// The testkit's notification parts: loopback fakes of chat services and a real SMTP server. A
// separate entry, because the main one waits for the run's Docker Engine, which these never need.
export * from './chat-fakes/index.ts';
export * from './smtp.ts';
