export * from './config.ts';
export * from './errors.ts';
export * from './events.ts';
export * from './logger.ts';
export * from './contracts/index.ts';
export * from './memory/index.ts';
export * from './policy/index.ts';
export * from './engine/index.ts';
