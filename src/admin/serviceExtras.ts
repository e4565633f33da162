/**
 * What runs beside the WebDAV server: the maintenance task runner, the collection once the
 * server has gone quiet (quietCollection.ts), and, with `--admin-listen`,
 * the metrics, the readiness check and the admin listener (whose address is recorded in the
 * state directory for the command line).
 */
import type { Services } from '../methods/context';
import type { Logger } from '../logging/logger';
import type { RequestObserver } from '../http/edge';
import { TaskRunner } from '../maintenance/taskRunner';
import { taskBodies } from '../maintenance/treeTasks';
import { createReadinessCheck } from './readiness';
import { startAdminServer, type AdminServer } from './adminServer';
import { parseListenAddress } from './listenAddress';
import { recordAdminAddress, forgetAdminAddress } from './adminAddressFile';
import { listenOrExplain } from '../http/listen';
import { AdminUsers } from '../auth/adminUsers';
import { ConfigError } from '../config';
import { fullCollection, quietCleanUp, startQuietCollection } from './quietCollection';
import { mallocTrim } from './mallocTrim';
import { observeHelperStops } from '../storage/workerThread';

export interface ServiceExtras {
  readonly tasks: TaskRunner;
  /** Request observers to add to the edge (the quiet collection; the metrics, when the admin listener is on). */
  readonly observers: RequestObserver[];
  /** Starts the admin listener when configured; its URL, or null. */
  listen(): Promise<string | null>;
  /** Cancels a running task, stops the admin listener, forgets its recorded address. */
  close(): Promise<void>;
}

/** The admin users, or one clear ConfigError naming the option and the file. */
function openAdminUsers(file: string): AdminUsers {
  try {
    return new AdminUsers(file);
  } catch (err) {
    throw new ConfigError(`--admin-users ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}

export function startServices(services: Services, logger: Logger): ServiceExtras {
  const tasks = new TaskRunner(taskBodies(services));
  const { adminListen, stateDir } = services.config;
  // prom-client is loaded only when the admin listener is on.
  const metrics = adminListen === null ? null : (require('./metrics') as typeof import('./metrics')).createMetrics(services);
  let admin: AdminServer | null = null;
  const adminUsers = services.config.adminUsersFile === null ? null : openAdminUsers(services.config.adminUsersFile);
  const trim = mallocTrim();
  const quiet = startQuietCollection(quietCleanUp(fullCollection(), trim));
  // A helper thread that stopped (idle for 10 s) freed its isolate, most often after the quiet
  // clean-up: 3-4 MiB more given back once a listing thread has gone.
  const unobserveHelpers = trim === null ? null : observeHelperStops(() => setTimeout(trim, 100).unref());
  return {
    tasks,
    observers: metrics ? [quiet, metrics] : [quiet],
    async listen() {
      if (adminListen === null || metrics === null) return null;
      const address = parseListenAddress(adminListen, adminUsers !== null);
      if (typeof address === 'string') throw new Error(address); // resolveConfig refused it already
      const readiness = createReadinessCheck(services);
      admin = await startAdminServer({ metrics, readiness, tasks, logger, adminUsers }, (server) =>
        listenOrExplain(server, address.host, address.port, { host: '--admin-listen', port: '--admin-listen' }),
      );
      recordAdminAddress(stateDir, { url: admin.url, pid: process.pid });
      logger.info({ adminUrl: admin.url }, `admin listener on ${admin.url}`);
      return admin.url;
    },
    async close() {
      quiet.stop();
      unobserveHelpers?.();
      await tasks.stop();
      await services.digestCompletion.stop();
      metrics?.close();
      if (admin) {
        await admin.close();
        forgetAdminAddress(stateDir, process.pid);
      }
    },
  };
}
