import { toJsonSchema } from '@valibot/to-json-schema';
import { loadAllAdapters } from '../adapters.ts';
import { configSchemaFor } from './schema.ts';

/** The JSON Schema of the config file, as published in `config.schema.json`: every adapter's options. */
export async function configJsonSchema(): Promise<Record<string, unknown>> {
  return {
    $id: 'https://docker-watcher.dev/config.schema.json',
    title: 'Docker Watcher configuration',
    ...toJsonSchema(configSchemaFor(await loadAllAdapters()), { errorMode: 'ignore', typeMode: 'input' }),
  };
}

/** The file's exact text: two-space JSON and a final newline. */
export const configJsonSchemaText = async (): Promise<string> =>
  `${JSON.stringify(await configJsonSchema(), null, 2)}\n`;
