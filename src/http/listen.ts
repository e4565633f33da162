/**
 * Binds a server, turning the system's refusal into one sentence that names the option to change
 * (ConfigError): an unresolvable host, a port in use or reserved, an address not on this machine.
 */
import type { Server } from 'node:net';
import { ConfigError } from '../config';

export function listenOrExplain(server: Server, host: string, port: number, option: { host: string; port: string }): Promise<void> {
  return new Promise<void>((resolvePromise, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      switch (err.code) {
        case 'ENOTFOUND':
        case 'EAI_AGAIN':
        case 'EAI_NONAME':
          return reject(new ConfigError(`${option.host} ${host}: the name cannot be resolved`));
        case 'EADDRNOTAVAIL':
          return reject(new ConfigError(`${option.host} ${host}: not an address of this machine`));
        case 'EADDRINUSE':
          return reject(new ConfigError(`${option.port} ${port}: ${host}:${port} is already in use`));
        case 'EACCES':
          return reject(new ConfigError(`${option.port} ${port}: permission denied (ports below 1024 need privileges)`));
        default:
          return reject(new ConfigError(`cannot listen on ${host}:${port}: ${err.message}`));
      }
    });
    server.listen(port, host, () => {
      server.removeAllListeners('error');
      resolvePromise();
    });
  });
}
