/**
 * deploy/Containerfile's runtime stage, without a container engine (none
 * runs here): its steps (and those of the `manifests` stage it copies
 * from) are read from the file and carried out into a folder that stands
 * for the image's root filesystem (COPY copies, the npm RUN runs, the home
 * is made as its RUN makes it), then the image's
 * ENTRYPOINT runs from there as its USER (uid 1000), on this machine's Node
 * 24 (the base image's line). It prints its help, and a node starts on a
 * home laid out as the Kubernetes init container lays it (config and
 * genesis copied, keys copied 0600 from a group-readable Secret), with
 * every folder but the home unwritable to it, TMPDIR and HOME included;
 * the HEALTHCHECK command passes on it, and it stops cleanly on SIGTERM.
 *
 * The file is linted too, by dockerfile-utils (the checks of the Docker
 * language server: instructions, flags, durations, stage names; hadolint is
 * on neither npm nor Debian here).
 *
 * What this does not show: that the base image has what this machine has
 * (a Node 24 and sh, cp, install), and the engine's own behaviour
 * (read-only mounts, the HEALTHCHECK's schedule). docs/deploy.md says so.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { freePort, sleep } from "@edgeledger/node/testing";
import { validate as lintDockerfile } from "dockerfile-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { edgeledger, ROOT } from "./network.ts";

/** What the runtime stage leaves: the image's config, after its files are in place under `root`. */
interface Image {
  root: string;
  env: Record<string, string>;
  user: { uid: number; gid: number };
  entrypoint: string[];
  cmd: string[];
  healthcheck: string[];
  volumes: string[];
}

/** The Containerfile's instructions (continuations joined, comments dropped), by stage name. */
export function stages(text: string): Map<string, string[]> {
  const lines = text
    .replace(/\\\n\s*/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  const out = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const line of lines) {
    const from = /^FROM\s+\S+\s+AS\s+(\S+)$/i.exec(line);
    if (from) {
      current = [];
      out.set(from[1]!, current);
    } else current?.push(line);
  }
  return out;
}

const IMAGE_HOME = "/var/lib/edgeledger";
const NODE_BIN = "/usr/local/bin/node";
const isRoot = process.getuid?.() === 0;

/**
 * Carries out a stage's steps into `root`. `COPY --from=<stage>` reads the
 * folder of a stage carried out before (`stageRoots`); the build stage is
 * this checkout after `npm ci` (its `/src` is ROOT). A step this does not
 * know fails the test, so the Containerfile cannot gain a step that goes
 * untried.
 */
function carryOut(root: string, steps: string[], stageRoots: Record<string, string> = {}): Image {
  const image: Image = {
    root,
    env: {},
    user: { uid: 0, gid: 0 },
    entrypoint: [],
    cmd: [],
    healthcheck: [],
    volumes: [],
  };
  let cwd = "/";
  const at = (p: string) => join(root, p.startsWith("/") ? p : join(cwd, p));
  for (const step of steps) {
    const [op, ...words] = step.split(/\s+/);
    const rest = step.slice(op!.length).trim();
    switch (op) {
      case "ENV": {
        const [k, ...v] = rest.split("=");
        image.env[k!] = v.join("=");
        break;
      }
      case "WORKDIR":
        cwd = rest;
        mkdirSync(at(cwd), { recursive: true });
        break;
      case "COPY": {
        const stage = /^--from=(\S+)$/.exec(words[0]!)?.[1];
        const args = stage === undefined ? words : words.slice(1);
        const dest = args.pop()!;
        for (const src of args) {
          const from =
            stage === undefined
              ? join(ROOT, src)
              : stage === "build"
                ? join(ROOT, src.replace(/^\/src\//, ""))
                : join(stageRoots[stage] ?? "(a stage not carried out)", src);
          const isDir = statSync(from).isDirectory();
          const to = isDir || !dest.endsWith("/") ? at(dest) : join(at(dest), basename(src));
          mkdirSync(isDir ? to : dirname(to), { recursive: true });
          cpSync(from, to, { recursive: true });
        }
        break;
      }
      case "RUN": {
        const command = words.filter((w) => !w.startsWith("--mount=")).join(" ");
        const home = /^mkdir -p (\S+) && chown node:node \1$/.exec(command);
        if (command.startsWith("npm ")) {
          // The engine's cache mount is this machine's npm cache: offline first.
          execFileSync("sh", ["-c", command], {
            cwd: at(cwd),
            env: { ...process.env, npm_config_prefer_offline: "true" },
            stdio: "pipe",
          });
        } else if (home) {
          mkdirSync(at(home[1]!), { recursive: true });
          if (isRoot) chownSync(at(home[1]!), 1000, 1000);
        } else throw new Error(`the test does not know how to carry out: RUN ${command}`);
        break;
      }
      case "USER": {
        const [uid, gid] = rest.split(":").map(Number);
        image.user = { uid: uid!, gid: gid! };
        break;
      }
      case "VOLUME":
        image.volumes.push(rest);
        break;
      case "HEALTHCHECK":
        image.healthcheck = JSON.parse(rest.slice(rest.indexOf("CMD ") + 4)) as string[];
        break;
      case "ENTRYPOINT":
        image.entrypoint = JSON.parse(rest) as string[];
        break;
      case "CMD":
        image.cmd = JSON.parse(rest) as string[];
        break;
      case "EXPOSE":
        break;
      default:
        throw new Error(`the test does not know how to carry out: ${step}`);
    }
  }
  return image;
}

/**
 * An image path as it lies under `root`; `node` is the base image's Node
 * (here: this one, copied to where the base image has it, so the image's
 * user can run it wherever this checkout lies).
 */
function local(image: Image, argv: string[]): string[] {
  return argv.map((a, i) =>
    i === 0 && a === "node"
      ? join(image.root, NODE_BIN)
      : a.startsWith("/") && !a.startsWith("/v1")
        ? join(image.root, a)
        : a,
  );
}

/** A command as the image's USER, in its environment, with no writable HOME or TMPDIR. */
function asImageUser(image: Image, argv: string[], extraEnv: Record<string, string> = {}) {
  const readOnly = join(image.root, "readonly");
  const env = {
    PATH: process.env["PATH"] ?? "",
    ...image.env,
    HOME: readOnly,
    TMPDIR: readOnly,
    ...extraEnv,
  };
  const [cmd, ...args] = isRoot
    ? [
        "setpriv",
        `--reuid=${image.user.uid}`,
        `--regid=${image.user.gid}`,
        "--clear-groups",
        ...argv,
      ]
    : argv;
  return { cmd: cmd!, args, env };
}

let image: Image;
let node: ChildProcess | null = null;
const dir = mkdtempSync(join(tmpdir(), "image-"));

beforeAll(() => {
  const root = join(dir, "root");
  mkdirSync(join(root, "readonly"), { recursive: true });
  mkdirSync(dirname(join(root, NODE_BIN)), { recursive: true });
  cpSync(realpathSync(process.execPath), join(root, NODE_BIN));
  chmodSync(dir, 0o755);
  const all = stages(readFileSync(join(ROOT, "deploy/Containerfile"), "utf8"));
  const manifests = all.get("manifests");
  const runtime = all.get("runtime");
  if (!manifests || !runtime)
    throw new Error("deploy/Containerfile has no `manifests` or `runtime` stage");
  const manifestsRoot = join(dir, "manifests");
  carryOut(manifestsRoot, manifests);
  image = carryOut(root, runtime, { manifests: manifestsRoot });
  // Without root (nothing to switch users with), the image's folders are made unwritable instead.
  if (!isRoot) execFileSync("chmod", ["-R", "a-w", join(root, "app"), join(root, "readonly")]);
});

afterAll(async () => {
  if (node && node.exitCode === null) {
    const exited = new Promise((r) => node!.once("exit", r));
    node.kill("SIGKILL");
    await exited;
  }
  if (!isRoot) execFileSync("chmod", ["-R", "u+w", dir]);
  rmSync(dir, { recursive: true, force: true });
});

describe("deploy/Containerfile's runtime stage", () => {
  it("holds the production dependencies and the built SDK, and no development tool", () => {
    const modules = join(image.root, "app/node_modules");
    for (const dep of ["fastify", "libp2p", "classic-level", "hono", "commander", "pino"])
      expect(existsSync(join(modules, dep)), dep).toBe(true);
    for (const dev of [
      "vitest",
      "typescript",
      "turbo",
      "@biomejs",
      "playwright-core",
      "miniflare",
      "esbuild",
      "kubernetes-models",
      "node",
    ])
      expect(existsSync(join(modules, dev)), `${dev} is a development dependency`).toBe(false);
    expect(existsSync(join(image.root, "app/client-sdk/dist/index.js"))).toBe(true);
    expect(image.user.uid).not.toBe(0);
    expect(image.volumes).toEqual([`${IMAGE_HOME}`]);
    expect(image.entrypoint).toEqual(["node", "/app/cli/src/main.ts"]);
  });

  it("runs `edgeledger` as its entrypoint: its commands are the container's", () => {
    const { cmd, args, env } = asImageUser(
      image,
      local(image, [...image.entrypoint, ...image.cmd]),
    );
    const help = execFileSync(cmd, args, { env, encoding: "utf8" });
    for (const command of ["init", "start", "signer", "edge", "testnet", "status"])
      expect(help).toMatch(new RegExp(`^\\s+${command}\\b`, "m"));
  });

  it("starts a node on a home laid out as the pod's init container lays it, writing only there, and passes its HEALTHCHECK", async () => {
    // The operator's side: a one-validator network for Kubernetes, from the checkout's CLI.
    const net = join(dir, "network");
    edgeledger(["testnet", "--validators", "1", "--out", join(dir, "homes"), "--kubernetes", net]);
    // The kubelet's side: the ConfigMap and the Secret as volumes (keys 0440, group fsGroup 1000).
    const configDir = join(image.root, "etc/edgeledger/config");
    const keysDir = join(image.root, "etc/edgeledger/keys");
    mkdirSync(configDir, { recursive: true });
    mkdirSync(keysDir, { recursive: true });
    const port = await freePort();
    const config = JSON.parse(readFileSync(join(net, "validator-0/config.json"), "utf8"));
    // A free port on loopback instead of 0.0.0.0:8545/8645, as this machine is shared; nothing else changes.
    config.api = { ...config.api, host: "127.0.0.1", port };
    config.network.listen = ["/ip4/127.0.0.1/tcp/0"];
    writeFileSync(join(configDir, "config.json"), JSON.stringify(config, null, 2));
    cpSync(join(net, "validator-0/genesis.json"), join(configDir, "genesis.json"));
    for (const key of ["validator_key.json", "node_key.json"]) {
      cpSync(join(net, "validator-0", key), join(keysDir, key));
      chmodSync(join(keysDir, key), 0o440);
      if (isRoot) chownSync(join(keysDir, key), 0, 1000);
    }
    // The init container's command, as base/node/statefulset.yaml gives it, on the same paths.
    const sts = parse(
      readFileSync(join(ROOT, "deploy/kubernetes/base/node/statefulset.yaml"), "utf8"),
    );
    const init = sts.spec.template.spec.initContainers[0];
    const script = (init.args[0] as string)
      .replaceAll("/etc/edgeledger", join(image.root, "etc/edgeledger"))
      .replaceAll(IMAGE_HOME, join(image.root, IMAGE_HOME));
    const initRun = asImageUser(image, [...init.command, script]);
    execFileSync(initRun.cmd, initRun.args, { env: initRun.env });
    const home = join(image.root, IMAGE_HOME);
    expect((statSync(join(home, "validator_key.json")).mode & 0o777).toString(8)).toBe("600");

    const container = sts.spec.template.spec.containers[0];
    const start = asImageUser(image, local(image, [...image.entrypoint, ...container.args]));
    node = spawn(start.cmd, start.args, { env: start.env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    node.stdout?.on("data", (d) => (output += d));
    node.stderr?.on("data", (d) => (output += d));
    const url = `http://127.0.0.1:${port}/v1/health`;
    const deadline = Date.now() + 60_000;
    let ready = false;
    while (!ready && Date.now() < deadline && node.exitCode === null) {
      ready = await fetch(url).then(
        (r) => r.status === 200,
        () => false,
      );
      if (!ready) await sleep(200);
    }
    expect(ready, `the node is ready on ${url}; its output:\n${output}`).toBe(true);

    // The HEALTHCHECK, as the engine would run it in the container, told this node's port.
    const healthUrl = image.env["EDGELEDGER_HEALTH_URL"]!.replace(
      "127.0.0.1:8545",
      `127.0.0.1:${port}`,
    );
    expect(healthUrl).toBe(url);
    const check = (u: string) => {
      const h = asImageUser(image, local(image, image.healthcheck), { EDGELEDGER_HEALTH_URL: u });
      return spawnSync(h.cmd, h.args, { env: h.env }).status;
    };
    expect(check(healthUrl)).toBe(0);
    expect(check(`http://127.0.0.1:${await freePort()}/v1/health`)).toBe(1);

    const exited = new Promise<number | null>((r) => node!.once("exit", r));
    node.kill("SIGTERM");
    expect(await exited, output).toBe(0);
    // It wrote its database into the home, and nothing into HOME or TMPDIR.
    expect(readdirSync(home).sort()).toEqual([
      "config.json",
      "data",
      "genesis.json",
      "node_key.json",
      "validator_key.json",
    ]);
    expect(readdirSync(join(image.root, "readonly"))).toEqual([]);
  });
});

describe("deploy/Containerfile, linted", () => {
  const text = readFileSync(join(ROOT, "deploy/Containerfile"), "utf8");
  const problems = (t: string) =>
    lintDockerfile(t).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);

  it("has no problem dockerfile-utils finds", () => {
    expect(problems(text)).toEqual([]);
  });

  it("finds the problems it is there for (the check can fail)", () => {
    const broken = text
      .replace(/^USER /m, "USR ")
      .replace(/^HEALTHCHECK /m, "HEALTHCHECK --retries=abc ");
    expect(broken).not.toBe(text);
    const found = problems(broken).join("\n");
    expect(found).toMatch(/Unknown instruction: USR/);
    expect(found).toMatch(/retries/);
  });
});
