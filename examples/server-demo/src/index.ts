export * from './dashboard-build.ts';
export * from './dashboard-stack.ts';
export * from './stack.ts';
export * from './stack-config.ts';
export * from './stack-server.ts';
export * from './wait-for.ts';
