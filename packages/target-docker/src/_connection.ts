import Docker from 'dockerode';
import type { ResolvedDockerTargetOptions } from './options.ts';

export interface Connection {
  readonly docker: Docker;
  /** Where the engine is, for messages: a socket path or a URL without credentials. */
  readonly describe: string;
}

const defaultSocket = '/var/run/docker.sock';

/**
 * One dockerode client. Without `dockerHost` or `socketPath`, dockerode follows `DOCKER_HOST`,
 * `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH` as the docker CLI does.
 */
export function connect(
  options: Pick<ResolvedDockerTargetOptions, 'socketPath' | 'dockerHost' | 'tls' | 'apiVersion'>,
  env: NodeJS.ProcessEnv = process.env,
): Connection {
  const version = options.apiVersion === undefined ? {} : { version: options.apiVersion };
  if (options.dockerHost !== undefined) {
    const url = new URL(options.dockerHost);
    const tls = options.tls;
    const protocol =
      url.protocol === 'ssh:'
        ? 'ssh'
        : url.protocol === 'https:' || tls !== undefined || url.port === '2376'
          ? 'https'
          : 'http';
    const defaultPort = protocol === 'ssh' ? '22' : protocol === 'https' ? '2376' : '2375';
    const docker = new Docker({
      protocol,
      host: url.hostname,
      port: url.port || defaultPort,
      ...(protocol === 'ssh'
        ? {
            username: decodeURIComponent(url.username),
            sshOptions: env.SSH_AUTH_SOCK ? { agent: env.SSH_AUTH_SOCK } : {},
          }
        : {}),
      ...(tls ? { ca: tls.ca, cert: tls.cert, key: tls.key } : {}),
      ...version,
    });
    const who = url.username ? `${decodeURIComponent(url.username)}@` : '';
    return { docker, describe: `${url.protocol}//${who}${url.host}` };
  }
  if (options.socketPath !== undefined) {
    return {
      docker: new Docker({ socketPath: options.socketPath, ...version }),
      describe: options.socketPath,
    };
  }
  const fromEnv = env.DOCKER_HOST;
  return {
    docker: new Docker({ ...version }),
    describe: fromEnv ? fromEnv.replace(/\/\/[^@/]*@/, '//') : defaultSocket,
  };
}
