export { type ServiceUrlOptions, ServiceUrlProblem } from './_service-url.ts';
export * from './service-url-examples.ts';
export * from './service-urls.ts';
