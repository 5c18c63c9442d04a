export * from './adopt/adopted-target.ts';
export * from './adopt/aside-name.ts';
export * from './docker-target.ts';
export * from './labels/index.ts';
export * from './options.ts';
