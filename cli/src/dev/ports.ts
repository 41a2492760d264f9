/**
 * Ports checked before `edgeledger dev` starts anything: a port already
 * taken (often by validators of an earlier run whose launcher was killed)
 * would otherwise let the readiness checks pass against the old processes
 * and print a banner read from the old network before failing. Each taken
 * port is reported with what holds it, where the system says (Linux:
 * /proc/net/tcp* and the holders' open sockets; other systems: unnamed).
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { createServer } from "node:net";
import { BaseError } from "@edgeledger/sdk/protocol";

export interface PortUse {
  readonly host: string;
  readonly port: number;
  /** What it is for, in the message: "validator-0 API". */
  readonly what: string;
}

export interface PortHolder {
  readonly pid: number;
  /** Its command line, as /proc gives it. */
  readonly command: string;
}

export class PortInUseError extends BaseError<"DEV_PORT_IN_USE"> {
  override name = "PortInUseError";
}

/** Resolves true if `host:port` can be listened on now (the test listener is closed again). */
export function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = createServer();
    s.once("error", () => done(false));
    s.listen({ host, port, exclusive: true }, () => s.close(() => done(true)));
  });
}

/**
 * Throws DEV_PORT_IN_USE naming every port of `uses` that cannot be listened
 * on, and for each the process holding it when it can be found.
 */
export async function assertPortsFree(uses: readonly PortUse[]): Promise<void> {
  const taken: PortUse[] = [];
  for (const use of uses) if (!(await canListen(use.host, use.port))) taken.push(use);
  if (taken.length === 0) return;
  const lines = taken.map((use) => {
    const holder = portHolder(use.port);
    const by = holder ? `pid ${holder.pid}: ${holder.command}` : "a process this user cannot see";
    return `  ${use.host}:${use.port} (${use.what}) is held by ${by}`;
  });
  const pids = [
    ...new Set(taken.map((u) => portHolder(u.port)?.pid).filter((p) => p !== undefined)),
  ];
  throw new PortInUseError(
    "DEV_PORT_IN_USE",
    `${taken.length === 1 ? "A port" : "Ports"} of the dev network ${taken.length === 1 ? "is" : "are"} taken:\n${lines.join("\n")}\n${
      pids.length > 0
        ? `Stop ${pids.length === 1 ? "it" : "them"} (kill ${pids.join(" ")}), or create a network on other ports with --home <new folder> --api-port <port>.`
        : "Stop what holds them, or create a network on other ports with --home <new folder> --api-port <port>."
    }`,
    { details: { ports: taken.map((u) => u.port) } },
  );
}

/** The process listening on TCP `port`, or null when the system does not say (not Linux, another user's). */
export function portHolder(port: number): PortHolder | null {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const inode of listeningInodes(text, port)) inodes.add(inode);
  }
  if (inodes.size === 0) return null;
  for (const entry of safeReaddir("/proc")) {
    if (!/^[0-9]+$/.test(entry)) continue;
    for (const fd of safeReaddir(`/proc/${entry}/fd`)) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[([0-9]+)\]$/.exec(target);
      if (m && inodes.has(m[1]!)) return { pid: Number(entry), command: commandOf(entry) };
    }
  }
  return null;
}

/** TCP_LISTEN in /proc/net/tcp's `st` column. */
const TCP_LISTEN = "0A";

/**
 * The socket inodes listening on `port` in a /proc/net/tcp or tcp6 table
 * (columns: sl local_address rem_address st … inode; addresses as HEXIP:HEXPORT).
 */
export function listeningInodes(table: string, port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const found: string[] = [];
  for (const line of table.split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 10) continue;
    if (cols[1]!.split(":")[1] === hexPort && cols[3] === TCP_LISTEN && cols[9] !== "0")
      found.push(cols[9]!);
  }
  return found;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function commandOf(pid: string): string {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    return argv.join(" ") || "(no command line)";
  } catch {
    return "(gone)";
  }
}
