import { describe, expect, it } from 'vitest';
import { isCoreError } from '../errors.ts';
import { compileNotificationTemplate, type TemplateValues } from './template.ts';

const values = (record: Record<string, string>): TemplateValues =>
  Object.assign(Object.create(null) as Record<string, string>, record);

const render = (source: string, record: Record<string, string>) =>
  compileNotificationTemplate(source).render(values(record));

const problemsOf = (source: string): string[] => {
  try {
    compileNotificationTemplate(source, 'notify.0.template.title');
  } catch (error) {
    if (isCoreError(error, 'CONFIG_INVALID'))
      return (error.details.problems as Array<{ path: string; message: string }>).map(
        (problem) => `${problem.path}: ${problem.message}`,
      );
    throw error;
  }
  return [];
};

describe('compileNotificationTemplate', () => {
  it('inserts variables, with filters', () => {
    expect(
      render('{{project}}/{{ stage | upper }} runs {{tag}} ({{ digest | short }})', {
        project: 'web',
        stage: 'prod',
        tag: 'v1.4.2',
        digest: `sha256:${'ab'.repeat(32)}`,
      }),
    ).toBe('web/PROD runs v1.4.2 (sha256:abababababab)');
    expect(render('{{ tag | upper | lower }}', { tag: 'V1' })).toBe('v1');
  });

  it('keeps a section only when its variable is set, an inverted one only when it is not', () => {
    const template = '{{tag}}{{#previous}} after {{previous}}{{/previous}}{{^previous}} (first){{/previous}}';
    expect(render(template, { tag: 'v2', previous: 'v1' })).toBe('v2 after v1');
    expect(render(template, { tag: 'v1' })).toBe('v1 (first)');
  });

  it('treats values as text: template syntax inside a value is never expanded', () => {
    expect(render('{{reason}}', { reason: '{{project}} {{#tag}}x{{/tag}} <b>' })).toBe(
      '{{project}} {{#tag}}x{{/tag}} <b>',
    );
  });

  it('renders a missing variable as empty text', () => {
    expect(render('[{{by}}]', {})).toBe('[]');
  });

  it('reports every problem at once, with its place', () => {
    expect(
      problemsOf('{{ constructor }} {{ __proto__ }} {{ tag | eval }} {{#stage}} {{/project}} {{#tag}} {{ }}'),
    ).toEqual([
      expect.stringMatching(
        /^notify\.0\.template\.title: unknown variable "constructor"; one of: type, .* \(at character 1\)$/,
      ),
      expect.stringMatching(/unknown variable "__proto__"/),
      expect.stringMatching(/unknown filter "eval"; one of: upper, lower, short/),
      expect.stringMatching(/\{\{\/project\}\} closes the section \{\{#stage\}\}/),
      expect.stringMatching(/an empty \{\{ \}\}/),
      expect.stringMatching(/the section \{\{#tag\}\} is never closed/),
    ]);
    expect(problemsOf('{{/tag}} and {{ tag')).toEqual([
      expect.stringMatching(/\{\{\/tag\}\} closes no section/),
      expect.stringMatching(/a \{\{ is never closed with \}\}/),
    ]);
  });

  it('never reaches a prototype, even with a plain object of values', () => {
    const template = compileNotificationTemplate('{{project}}');
    const inherited = Object.create({ project: 'from the prototype' }) as TemplateValues;
    expect(template.render(inherited)).toBe('');
  });
});
