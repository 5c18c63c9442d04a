// Building blocks for adapters that add a registry's own HTTP API (Gitea, GitHub) on top of OCI.
export * from './api-client.ts';
export * from './delegate.ts';
export * from './oci-registry.ts';
export * from './options.ts';
export * from './rebrand.ts';
