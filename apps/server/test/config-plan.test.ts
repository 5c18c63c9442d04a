import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectConfigFile, inspectConfigText, loadConfigFile } from '../src/config/load.ts';

/** The original plan's file, byte for byte as the plan (and issue #19) wrote it. */
const planFile = join(import.meta.dirname, 'fixtures/plan/docker-watcher.yml');
const planDir = join(import.meta.dirname, 'fixtures/plan');
const planEnv = { NPM_PASSWORD: 'npm-password-0123', GITEA_TOKEN: 'gitea-token-0123456789' };

describe("the plan's config file", () => {
  it('loads as written, with its environment variables set, and without a warning', async () => {
    const report = await inspectConfigFile(planFile, planEnv);
    expect(report.problems).toEqual([]);
    expect(report.warnings).toEqual([]);
    const config = report.config!;
    expect(config.target.type).toBe('docker');
    expect(config.proxy?.type).toBe('npm');
    // The plan's notification_url stays the signed JSON webhook.
    expect(config.notify.channels.map((channel) => [channel.channel, channel.options.url])).toEqual([
      ['webhook', 'https://notify.example.com/webhook'],
    ]);
  });

  it('means what the plan says: three stages with their gates, port and health check', async () => {
    const config = await loadConfigFile(planFile, planEnv);
    const [project] = config.projects;
    expect(project?.id).toBe('web-app-launcher');
    expect(project?.repository).toBe('alexei/web-app-launcher');
    const { dev, rel, prod } = project!.stages;
    expect(dev).toMatchObject({
      autoDeploy: true,
      deploy: { port: 3000, host: 'stage-dev-web-app-launcher.example.com' },
    });
    expect(rel).toMatchObject({
      autoDeploy: false,
      deploy: { host: 'stage-rel-web-app-launcher.example.com' },
    });
    expect(prod).toMatchObject({
      autoDeploy: false,
      confirm: true,
      promoteFrom: 'rel',
      deploy: { host: 'launcher.example.com' },
    });
    expect(dev!.deploy.health?.path).toBe('/api/health');
    expect(prod!.deploy.health?.path).toBe('/api/health');
  });

  it("hands env_file (relative to the file), volumes, network and the registry's credentials to the Docker target", async () => {
    const config = await loadConfigFile(planFile, planEnv);
    const options = config.target.options as {
      network: string;
      auth: Record<string, { username: string; password: string }>;
      stages?: unknown;
    };
    expect(options.network).toBe('staging-net');
    // Each stage's own options carry them: never the deprecated `stages` of the target.
    expect(options.stages).toBe(undefined);
    for (const stage of ['dev', 'rel', 'prod']) {
      expect(config.stageOptions.get(`web-app-launcher/${stage}`)).toEqual({
        envFiles: [join(planDir, 'envs/web-app-launcher.env')],
        volumes: [],
      });
    }
    // Gitea's token pulls the images Gitea holds: nothing to write twice, nothing in plain text.
    expect(options.auth['git.example.com']).toEqual({
      username: 'docker-watcher',
      password: planEnv.GITEA_TOKEN,
    });
  });

  it('lets a stage override port, healthcheck, env, env_file and volumes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-plan-'));
    writeFileSync(join(dir, 'prod.env'), 'A=1\n');
    const text = readFileSync(planFile, 'utf8').replace(
      'prod: { tag_pattern: "v*", auto_deploy: false, confirm: true, promote_from: rel, subdomain: launcher }',
      [
        'prod:',
        '        tag_pattern: "v*"',
        '        promote_from: rel',
        '        port: 8080',
        '        healthcheck: { path: /ready, retries: 7 }',
        '        env: { MODE: production }',
        '        env_file: [./prod.env, /etc/app/secret.env]',
        '        volumes: ["./data:/data", "app-cache:/cache:ro"]',
      ].join('\n'),
    );
    const report = await inspectConfigText(text, planEnv, { baseDir: dir });
    expect(report.problems).toEqual([]);
    const prod = report.config!.projects[0]!.stages.prod!;
    expect(prod.deploy).toMatchObject({
      port: 8080,
      env: { MODE: 'production' },
      health: { path: '/ready', retries: 7 },
    });
    expect(report.config!.stageOptions.get('web-app-launcher/prod')).toEqual({
      envFiles: [join(dir, 'prod.env'), '/etc/app/secret.env'],
      volumes: [join(dir, 'data:/data'), 'app-cache:/cache:ro'],
    });
    // A missing file is a warning at check time: the target reads it at each start.
    expect(report.warnings).toContainEqual({
      path: 'projects.web-app-launcher.stages.prod.env_file',
      message: expect.stringContaining('cannot read /etc/app/secret.env (ENOENT)'),
    });
    expect(report.warnings.map((w) => w.path)).not.toContain('projects.web-app-launcher.stages.prod.volumes');
    expect(report.config!.projects[0]!.stages.dev!.deploy.port).toBe(3000);
  });

  it('keeps explicit Docker credentials for a host, and can leave registry credentials out', async () => {
    const text = readFileSync(planFile, 'utf8').replace(
      '  notification_url',
      '  target: { type: docker, auth: { git.example.com: { username: deploy, password_env: PULL_TOKEN } } }\n  notification_url',
    );
    const own = await inspectConfigText(
      text,
      { ...planEnv, PULL_TOKEN: 'pull-token-1234' },
      { baseDir: planDir },
    );
    expect(own.problems).toEqual([]);
    expect((own.config!.target.options as { auth: unknown }).auth).toEqual({
      'git.example.com': { username: 'deploy', password: 'pull-token-1234' },
    });
    const off = await inspectConfigText(
      readFileSync(planFile, 'utf8').replace(
        '  notification_url',
        '  target: { type: docker, reuse_registry_credentials: false }\n  notification_url',
      ),
      planEnv,
      { baseDir: planDir },
    );
    expect((off.config!.target.options as { auth?: unknown }).auth).toBeUndefined();
  });
});
