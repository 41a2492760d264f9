/**
 * A lifeline between a launcher and the processes it starts (`edgeledger
 * dev` and its validators, the test harness and its nodes): the launcher
 * spawns each child with stdin a pipe it never writes to, and names it in
 * LIFELINE_ENV. The kernel closes that pipe whenever the launcher goes,
 * however it goes (Ctrl-C, a crash, kill -9 of it or of `npm start`'s
 * group), so a child reads end-of-file and stops itself as it would on
 * SIGTERM. Watching the parent pid instead would need polling, and misses a
 * parent that is replaced by a shell still waiting on it.
 */

/** Set (to "stdin") in a child's environment by the launcher. */
export const LIFELINE_ENV = "EDGELEDGER_LIFELINE";

/** How long a child whose launcher went has to stop cleanly before it exits anyway. */
export const LIFELINE_GRACE_MS = 10_000;

/**
 * In a child started with a lifeline: SIGTERM to itself once stdin closes,
 * so the command's own shutdown runs (the node closes its database); if that
 * has not ended the process within LIFELINE_GRACE_MS, exits with code 1.
 * Does nothing in a process started otherwise (a terminal's stdin is no lifeline).
 */
export function watchLifeline(env: NodeJS.ProcessEnv = process.env): void {
  if (env[LIFELINE_ENV] !== "stdin") return;
  const stdin = process.stdin;
  const lost = () => {
    process.kill(process.pid, "SIGTERM");
    setTimeout(() => process.exit(1), LIFELINE_GRACE_MS).unref();
  };
  stdin.once("end", lost);
  stdin.once("error", lost);
  // Reading is what notices the end; unref'd, so the open pipe does not keep
  // a process alive that has stopped for another reason.
  stdin.resume();
  (stdin as NodeJS.ReadStream & { unref?: () => void }).unref?.();
}
