export { ServiceUrlProblem } from './_service-url.ts';
export * from './service-urls.ts';
