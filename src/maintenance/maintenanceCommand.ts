/**
 * `keepdav scrub|prune|reindex [--root DIR] [--state DIR]`: when a server owning that state
 * directory runs with an admin listener (its address is recorded there), the task runs in it
 * through POST /tasks and this command follows its progress; otherwise it runs here, directly on
 * the state. Prints the task's result as JSON; exit 0 when it succeeded, 1 otherwise.
 */
import type { ServerConfig } from '../config';
import { openServices } from '../server';
import { readAdminAddress } from '../admin/adminAddressFile';
import { TaskRunner, type TaskName, type TaskRecord } from './taskRunner';
import { taskBodies } from './treeTasks';
import { StateInUseError } from '../state/stateOwnership';

/** How often the command asks the server how its task is doing, ms. */
const POLL_MS = 250;

/** Basic credentials for an admin listener with --admin-users, from KEEPDAV_USER / KEEPDAV_PASSWORD. */
function adminAuthorization(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  if (env.KEEPDAV_USER === undefined) return {};
  return { Authorization: 'Basic ' + Buffer.from(`${env.KEEPDAV_USER}:${env.KEEPDAV_PASSWORD ?? ''}`, 'utf8').toString('base64') };
}

async function viaServer(url: string, task: TaskName, out: (line: string) => void): Promise<TaskRecord | null> {
  let started: Response;
  try {
    started = await fetch(new URL('/tasks', url), { method: 'POST', headers: { 'Content-Type': 'application/json', ...adminAuthorization() }, body: JSON.stringify({ task }) });
  } catch {
    return null; // recorded but not answering: work directly
  }
  const body = (await started.json()) as { id?: string; runningTaskId?: string; message?: string };
  if (started.status === 409) throw new Error(`${body.message} (running task ${body.runningTaskId})`);
  if (started.status !== 202 || !body.id) throw new Error(`the server refused the task: ${started.status} ${JSON.stringify(body)}`);
  out(`keepdav: ${task} runs in the server at ${url} as task ${body.id}`);
  for (;;) {
    const record = (await (await fetch(new URL(`/tasks/${body.id}`, url), { headers: adminAuthorization() })).json()) as TaskRecord;
    if (record.state !== 'running') return record;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function directly(config: ServerConfig, task: TaskName): Promise<TaskRecord> {
  // An embedded state is taken as its owner, as a server takes it: a task racing a running
  // server's own writes and prunes reported versions as lost that were only being pruned.
  let opened;
  try {
    opened = await openServices(config, { recover: false, own: true, existing: true });
  } catch (err) {
    if (err instanceof StateInUseError) {
      throw new StateInUseError(err.stateDir, err.owner, `start it with --admin-listen so that \`keepdav ${task}\` runs in it, or stop it first`);
    }
    throw err;
  }
  const { services, state, ownership } = opened;
  try {
    const runner = new TaskRunner(taskBodies(services));
    const { id } = runner.start(task);
    return (await runner.finished(id))!;
  } finally {
    await state.close();
    ownership?.release();
  }
}

export async function maintenanceCommand(task: TaskName, config: ServerConfig, out: (line: string) => void): Promise<number> {
  const admin = readAdminAddress(config.stateDir);
  const record = (admin && (await viaServer(admin.url, task, out))) ?? (await directly(config, task));
  out(JSON.stringify(record, null, 2));
  return record.state === 'succeeded' ? 0 : 1;
}
