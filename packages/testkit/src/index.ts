import { realPartsReady } from './real-parts.ts';

export * from './caddy.ts';
export * from './chromium.ts';
export * from './command.ts';
export * from './debian-packages.ts';
export * from './docker-client.ts';
export * from './docker-engine.ts';
export * from './fault-proxy.ts';
export * from './fixture-images.ts';
export * from './image-cleanup.ts';
export * from './labels.ts';
export * from './loopback-server.ts';
export * from './machine-state.ts';
export * from './nginx.ts';
export * from './node-image.ts';
export * from './oci-seed.ts';
export * from './ports.ts';
export * from './postgres.ts';
export * from './private-engine.ts';
export * from './push.ts';
export * from './real-parts.ts';
export * from './registry.ts';
export * from './socket-fault-proxy.ts';
export * from './test-run.ts';
export * from './testkit-error.ts';
export * from './token-server.ts';

// Inside a test run, importing the testkit is what asks for the run's real parts (engine, fixture
// images): a file that uses them waits here, once; a file that does not import it never does.
await realPartsReady();
