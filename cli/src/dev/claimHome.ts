/**
 * One `edgeledger dev` per home, claimed with a pid file.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "@edgeledger/node";
import { DEV_PID_FILE } from "./network.ts";

/**
 * One `edgeledger dev` per home: a second one would empty the running
 * validators' logs and then fail on their locked databases. The claim is a
 * pid file; one left by a launcher that was killed names a dead process and
 * is taken over.
 */
export function claimHome(home: string): () => void {
  const file = join(home, DEV_PID_FILE);
  for (;;) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: "wx" });
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const pid = Number(readFileSync(file, "utf8").trim());
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
      throw ConfigError.invalid(
        home,
        "(home)",
        `is in use by another edgeledger dev (pid ${pid})`,
        `stop that one first (Ctrl-C in its terminal, or kill -INT ${pid}), or pass --home <another folder>`,
      );
    }
    rmSync(file, { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, it is just not ours to signal.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
