export { describeNetworkError, type HttpIdentity, identityDetails } from './failure.ts';
export { type HeaderReader, headersOf } from './headers.ts';
export { httpStatusError } from './status-error.ts';
export {
  createHttpTransport,
  type HttpRequest,
  type HttpResponse,
  type HttpTls,
  type HttpTransport,
  type HttpTransportOptions,
  responseJson,
  responseText,
} from './transport.ts';
