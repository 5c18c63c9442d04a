import { type ConversionConfig, toJsonSchema, toJsonSchemaDefs } from '@valibot/to-json-schema';
import type * as v from 'valibot';
import packageJson from '../../package.json' with { type: 'json' };
import { csrfHeader } from '../api/auth.ts';
import { resetMessageSchema, streamEventSchema } from '../api/events.ts';
import { apiRoutes } from '../api/index.ts';
import { boardSchema, stageHistorySchema } from '../api/projects.ts';
import { errorSchema, type RouteContract, type RouteTable } from '../api/route.ts';
import {
  approvalSchema,
  auditEventSchema,
  decisionSchema,
  deploySchema,
  projectSummarySchema,
  releaseSchema,
  stageSummarySchema,
} from '../api/schemas.ts';
import { statusSchema } from '../api/system.ts';
import { sessionCookie } from './login.ts';

/** Schemas that appear in many answers: components of the document, referenced by name. */
const components = {
  Release: releaseSchema,
  Deploy: deploySchema,
  Approval: approvalSchema,
  AuditEvent: auditEventSchema,
  Decision: decisionSchema,
  StageSummary: stageSummarySchema,
  ProjectSummary: projectSummarySchema,
  Board: boardSchema,
  StageHistory: stageHistorySchema,
  Status: statusSchema,
  StreamEvent: streamEventSchema,
  StreamReset: resetMessageSchema,
  Error: errorSchema,
};

const conversion: ConversionConfig = {
  target: 'draft-2020-12',
  errorMode: 'ignore',
  // Queries are strings on the wire: their schemas are documented as they come in, before transforms.
  typeMode: 'input',
  definitions: components,
  overrideRef: ({ referenceId }) => `#/components/schemas/${referenceId}`,
};

const schemaOf = (schema: v.GenericSchema): Record<string, unknown> => {
  const {
    $schema: _schema,
    $defs: _defs,
    ...rest
  } = toJsonSchema(schema, conversion) as Record<string, unknown>;
  return rest;
};

const errorAnswer = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

/** The error answers a route has by what it takes and how it is guarded. */
function errorsOf(route: RouteContract): Record<string, unknown> {
  const errors: Record<string, unknown> = { '500': errorAnswer('Internal error') };
  if (route.params)
    errors['404'] = errorAnswer('Unknown project, stage, deploy, approval or repo, named in `notFound`');
  if (route.body || route.query || route.headers?.['Idempotency-Key'])
    errors['400'] = errorAnswer('Invalid request, with the fields in `fields`');
  if (route.scope) {
    errors['401'] = errorAnswer('Missing or wrong token, or no valid session');
    errors['403'] = errorAnswer(
      route.method === 'post'
        ? `Token or user without the scope; session request without ${csrfHeader} or cross-origin`
        : 'Token or user without the scope',
    );
  }
  if (route.method === 'post' && route.scope)
    errors['409'] = errorAnswer(
      'Conflict (an unproven promotion, a stage busy on another replica, a reused Idempotency-Key)',
    );
  for (const [status, description] of Object.entries(route.errors ?? {}))
    errors[status] = errorAnswer(description);
  return errors;
}

function parametersOf(route: RouteContract): unknown[] {
  const fields = (schema: v.GenericSchema | undefined, where: 'path' | 'query') => {
    if (!schema) return [];
    const json = schemaOf(schema) as { properties?: Record<string, unknown>; required?: string[] };
    return Object.entries(json.properties ?? {}).map(([name, property]) => ({
      name,
      in: where,
      required: where === 'path' || (json.required ?? []).includes(name),
      schema: property,
      ...((property as { description?: string }).description
        ? { description: (property as { description: string }).description }
        : {}),
    }));
  };
  const headers = Object.entries(route.headers ?? {}).map(([name, description]) => ({
    name,
    in: 'header',
    required: false,
    description,
    schema: { type: 'string' },
  }));
  const csrf =
    route.method === 'post' && (route.scope || route.session)
      ? [
          {
            name: csrfHeader,
            in: 'header',
            required: false,
            description: 'Required when the session cookie authenticates the request',
            schema: { type: 'string' },
          },
        ]
      : [];
  return [...fields(route.params, 'path'), ...fields(route.query, 'query'), ...headers, ...csrf];
}

function operationOf(name: string, route: RouteContract): Record<string, unknown> {
  const parameters = parametersOf(route);
  return {
    operationId: name,
    summary: route.summary,
    ...(route.scope
      ? { security: [{ bearer: [] }, { session: [] }], 'x-scope': route.scope }
      : { security: route.session ? [{ session: [] }] : [] }),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: false,
            content: { 'application/json': { schema: schemaOf(route.body) } },
          },
        }
      : {}),
    responses: {
      [String(route.status ?? 200)]: {
        description:
          route.produces === 'text/event-stream'
            ? 'An event stream; each event’s data has this schema'
            : 'OK',
        content: { [route.produces ?? 'application/json']: { schema: schemaOf(route.response) } },
      },
      ...errorsOf(route),
    },
  };
}

/** The OpenAPI 3.1 document of a route table (the server's by default): every route, with its schemas. */
export function openApiDocument(table: RouteTable = apiRoutes): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [name, route] of Object.entries(table))
    paths[route.path] = { ...paths[route.path], [route.method]: operationOf(name, route) };
  const { definitions: _definitions, ...defsConversion } = conversion;
  const schemas = toJsonSchemaDefs(components, defsConversion) as unknown as Record<
    string,
    Record<string, unknown>
  >;
  return {
    openapi: '3.1.0',
    info: { title: 'Docker Watcher', version: packageJson.version },
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        session: { type: 'apiKey', in: 'cookie', name: sessionCookie },
      },
      schemas: Object.fromEntries(
        Object.entries(schemas).map(([key, schema]) => {
          const { $schema: _s, ...rest } = schema;
          return [key, rest];
        }),
      ),
    },
  };
}
