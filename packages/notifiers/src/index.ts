export { type ServiceUrlOptions, ServiceUrlProblem } from './_service-url.ts';
export * from './service-urls.ts';
