import { describe, it } from 'vitest';
import type { TestApi } from './suite.ts';

/** The only place the kit touches vitest: the `describe…()` functions register through it. */
export const vitestApi: TestApi = { describe, it };
