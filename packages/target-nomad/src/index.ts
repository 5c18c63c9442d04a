export * from './nomad-target.ts';
export * from './options.ts';
