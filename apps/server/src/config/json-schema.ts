import { toJsonSchema } from '@valibot/to-json-schema';
import { configSchema } from './schema.ts';

/** The JSON Schema of the config file, as published in `config.schema.json`. */
export function configJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://docker-watcher.dev/config.schema.json',
    title: 'Docker Watcher configuration',
    ...toJsonSchema(configSchema, { errorMode: 'ignore', typeMode: 'input' }),
  };
}

/** The file's exact text: two-space JSON and a final newline. */
export const configJsonSchemaText = (): string => `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
