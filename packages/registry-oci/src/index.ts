export * from './oci-registry.ts';
export * from './options.ts';
