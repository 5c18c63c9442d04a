import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { fixture } from '../test/support/fixtures.ts';
import { type NomadPlanResponse, planResponseSchema } from './_nomad-types.ts';
import { planLines } from './_plan.ts';

const field = (Type: string, Name: string, Old: string, New: string) => ({
  Type,
  Name,
  Old,
  New,
  Annotations: null,
});

describe('planLines', () => {
  it('renders the docs’ sample plan, skipping the "..." placeholders', () => {
    const plan = v.parse(planResponseSchema, fixture('job-plan-response.json'));
    expect(planLines(plan)).toEqual([
      'plan: job.Datacenters: added',
      'plan: job.Constraint: added',
      'plan: job.Update: added',
      'plan: group cache task redis.Driver: + "docker"',
      'plan: group cache task redis.KillTimeout: + "5000000000"',
      'plan: group cache task redis: forces create',
      'plan: group cache: 11 place',
      'plan: warning: group cache could not be placed (4 allocations): exhausted cpu (1)',
    ]);
  });

  it('shows image changes and hides environment values and secret-looking fields', () => {
    const plan: NomadPlanResponse = {
      Diff: {
        Type: 'Edited',
        Fields: [field('Edited', 'VaultToken', 'old-secret', 'new-secret')],
        Objects: [],
        TaskGroups: [
          {
            Type: 'Edited',
            Name: 'web',
            Tasks: [
              {
                Type: 'Edited',
                Name: 'app',
                Objects: [
                  {
                    Type: 'Edited',
                    Name: 'Config',
                    Fields: [field('Edited', 'image', 'app:1', 'app@sha256:2')],
                  },
                  {
                    Type: 'Edited',
                    Name: 'Env',
                    Fields: [field('Edited', 'DB_URL', 'postgres://a', 'postgres://b')],
                  },
                  { Type: 'Deleted', Name: 'Meta', Fields: [field('Deleted', 'owner', 'ops', '')] },
                ],
              },
              { Type: 'None', Name: 'sidecar', Objects: [] },
            ],
          },
        ],
      },
      Annotations: { DesiredTGUpdates: { web: { DestructiveUpdate: 2, Canary: 1, Ignore: 3 } } },
      Warnings: 'Group "web" has warnings:\n* deprecated field',
    };
    const lines = planLines(plan);
    expect(lines).toEqual([
      'plan: job.VaultToken: edited',
      'plan: group web task app.Config.image: "app:1" → "app@sha256:2"',
      'plan: group web task app.Env.DB_URL: edited',
      'plan: group web task app.Meta.owner: - "ops"',
      'plan: group web: 2 destructive update, 1 canary',
      'plan: warning: Group "web" has warnings: * deprecated field',
    ]);
    expect(lines.join('\n')).not.toMatch(/secret|postgres/);
  });

  it('says so when nothing changes, and cuts long diffs', () => {
    expect(planLines({ Diff: { Type: 'None' } })).toEqual(['plan: the job does not change']);
    const many = Array.from({ length: 45 }, (_, i) => field('Added', `F${i}`, '', String(i)));
    const lines = planLines({ Diff: { Type: 'Edited', Fields: many } });
    expect(lines).toHaveLength(41);
    expect(lines.at(-1)).toBe('plan: … and 5 more changes');
  });
});
