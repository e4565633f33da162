/**
 * Process-wide cleanup for the bench: kill child servers and remove temp dirs on every way out
 * (normal end, thrown error, Ctrl-C, SIGTERM).
 *
 * Usage:
 *   installExitHandlers();                       // once, at start
 *   const forget = onCleanup(() => child.kill('SIGKILL'));   // synchronous actions only
 *   ...orderly shutdown done...; forget();
 */

type CleanupAction = () => void;

const pending = new Set<CleanupAction>();

/** Registers a synchronous action run at exit; returns a function that unregisters it. */
export function onCleanup(action: CleanupAction): () => void {
  pending.add(action);
  return () => {
    pending.delete(action);
  };
}

/** Runs (once) every registered action, newest first, ignoring their errors. */
export function runCleanup(): void {
  const actions = [...pending].reverse();
  pending.clear();
  for (const action of actions) {
    try {
      action();
    } catch {
      // Best effort: one failed cleanup must not prevent the others.
    }
  }
}

export function installExitHandlers(): void {
  process.on('exit', runCleanup);
  const onSignal = (signal: NodeJS.Signals, code: number) => () => {
    process.stderr.write(`\nbench: ${signal}, stopping servers and removing temp data\n`);
    runCleanup();
    process.exit(code);
  };
  process.once('SIGINT', onSignal('SIGINT', 130));
  process.once('SIGTERM', onSignal('SIGTERM', 143));
  process.once('SIGHUP', onSignal('SIGHUP', 129));
}
