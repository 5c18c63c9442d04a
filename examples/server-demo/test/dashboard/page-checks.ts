// Screenshots of a page in both themes and on a 360 px screen, and an accessibility check with axe-core.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { screenshotDir } from '../../src/dashboard-stack.ts';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * `<name>-light.png`, `<name>-dark.png` and `<name>-360.png` under the test output. Throws when the
 * page is wider than a 360 px screen (the whole page would scroll sideways), after taking the picture.
 */
export async function screenshots(page: Page, name: string): Promise<string[]> {
  const viewport = page.viewportSize() ?? { width: 1280, height: 860 };
  const files: string[] = [];
  const shoot = async (variant: string) => {
    const file = join(screenshotDir, `${name}-${variant}.png`);
    await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
    files.push(file);
  };
  await page.emulateMedia({ colorScheme: 'light' });
  await shoot('light');
  await page.emulateMedia({ colorScheme: 'dark' });
  await shoot('dark');
  await page.setViewportSize({ width: 360, height: 780 });
  await page.emulateMedia({ colorScheme: 'light' });
  await shoot('360');
  // How wide the page is, and the innermost elements that reach past the screen's edge.
  const { width, culprits } = await page.evaluate(() => {
    interface Box {
      readonly tagName: string;
      readonly className: unknown;
      readonly textContent: string | null;
      contains(other: Box): boolean;
      getBoundingClientRect(): { right: number; width: number };
    }
    const document = (
      globalThis as unknown as {
        document: { documentElement: { scrollWidth: number }; querySelectorAll(s: string): ArrayLike<Box> };
      }
    ).document;
    const past = Array.from(document.querySelectorAll('body *')).filter(
      (box) => box.getBoundingClientRect().right > 361 && box.getBoundingClientRect().width > 0,
    );
    const innermost = past.filter((box) => !past.some((other) => other !== box && box.contains(other)));
    return {
      width: document.documentElement.scrollWidth,
      culprits: innermost
        .slice(0, 5)
        .map(
          (box) =>
            `${box.tagName.toLowerCase()}.${String(box.className)} "${(box.textContent ?? '').slice(0, 30)}"`,
        ),
    };
  });
  await page.setViewportSize(viewport);
  if (width > 360)
    throw new Error(
      `${name} is ${width} px wide on a 360 px screen (${culprits.join(', ')}): see ${files.at(-1)}`,
    );
  return files;
}

interface AxeViolation {
  readonly id: string;
  readonly impact: string;
  readonly help: string;
  readonly nodes: ReadonlyArray<{ readonly target: readonly string[] }>;
}

export interface Violation {
  readonly id: string;
  readonly impact: string;
  readonly help: string;
  readonly nodes: string[];
}

/** axe-core's serious and critical violations on the page as it is now, in both themes. */
export async function accessibilityProblems(page: Page): Promise<Violation[]> {
  // Evaluated through the DevTools protocol, which the page's CSP does not block (a script tag would be).
  await page.evaluate(axeSource);
  const found: Violation[] = [];
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    // Runs in the page; typed loosely, since this project's TypeScript has no DOM library.
    const violations = await page.evaluate(async () => {
      const scope = globalThis as unknown as {
        document: unknown;
        axe: { run: (context: unknown, options: object) => Promise<{ violations: AxeViolation[] }> };
      };
      const result = await scope.axe.run(scope.document, { resultTypes: ['violations'] });
      return result.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((node) => node.target.join(' ')),
      }));
    });
    for (const violation of violations)
      if (violation.impact === 'serious' || violation.impact === 'critical')
        found.push({ ...violation, id: `${violation.id} (${colorScheme})` });
  }
  await page.emulateMedia({ colorScheme: 'light' });
  return found;
}
