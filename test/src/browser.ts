/**
 * A real browser for tests and benchmarks: headless Chromium from the npm
 * package @sparticuz/chromium (the binary ships inside it, so `npm ci` is
 * enough: nothing is downloaded at run time), driven by playwright-core over
 * CDP. Pages are bundled for the browser with esbuild and served from
 * 127.0.0.1, which is a secure context, so WebCrypto is there.
 *
 * Versions go together: playwright-core 1.63 speaks the CDP of Chromium 153,
 * the Chromium in @sparticuz/chromium 153. Upgrade them as a pair.
 */
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import chromium from "@sparticuz/chromium";
import { build } from "esbuild";
import { type Browser, type Page, chromium as playwright } from "playwright-core";

/**
 * @sparticuz/chromium's flags are for AWS Lambda. These ones switch off what
 * a user's browser enforces (CORS, mixed content, site isolation) or work
 * around Lambda's sandbox; without them the page runs as it would for a user.
 * Playwright passes its own --headless.
 */
const DROPPED_FLAGS = new Set([
  "--disable-web-security",
  "--allow-running-insecure-content",
  "--disable-site-isolation-trials",
  "--single-process",
  "--no-zygote",
  "--headless",
]);

let unpacked: Promise<string> | null = null;

/**
 * The Chromium binary, unpacked once per machine and package version.
 * @sparticuz/chromium unpacks to `os.tmpdir()/chromium` and reuses whatever
 * is there, even a half-written file from an interrupted run or another
 * version; so it unpacks into a fresh directory here (it reads TMPDIR when
 * called), which is then renamed into place in one step.
 */
function chromiumExecutable(): Promise<string> {
  unpacked ??= (async () => {
    const entry = fileURLToPath(import.meta.resolve("@sparticuz/chromium"));
    const { version } = JSON.parse(
      readFileSync(join(dirname(entry), "..", "package.json"), "utf8"),
    ) as { version: string };
    const dir = join(tmpdir(), `edgeledger-chromium-${version}`);
    const executable = join(dir, "chromium");
    if (existsSync(executable)) return executable;
    const staging = mkdtempSync(join(tmpdir(), "edgeledger-chromium-unpacking-"));
    const saved = process.env["TMPDIR"];
    process.env["TMPDIR"] = staging;
    try {
      await chromium.executablePath();
    } finally {
      if (saved === undefined) delete process.env["TMPDIR"];
      else process.env["TMPDIR"] = saved;
    }
    try {
      renameSync(staging, dir);
    } catch (err) {
      // Another process got there first: use its copy.
      rmSync(staging, { recursive: true, force: true });
      if (!existsSync(executable)) throw err;
    }
    return executable;
  })();
  return unpacked;
}

/**
 * Headless Chromium, launched. Once in a few runs on a loaded 2-core
 * machine it died while starting (SIGSEGV before the first page, nothing
 * of ours loaded yet), so a launch that fails is tried once more; a second
 * failure is reported.
 */
export async function launchChromium(): Promise<Browser> {
  const launch = async () =>
    playwright.launch({
      executablePath: await chromiumExecutable(),
      args: chromium.args.filter((flag) => !DROPPED_FLAGS.has(flag.split("=")[0]!)),
      headless: true,
      timeout: 30_000,
    });
  try {
    return await launch();
  } catch (err) {
    console.warn(`Chromium did not start (${(err as Error).message.split("\n")[0]}); once more.`);
    return launch();
  }
}

/**
 * Bundles `entry` (a .ts file) into one ES module for the browser. The
 * platform is "browser", so an import of a Node built-in anywhere in its
 * graph fails the build instead of reaching the page.
 */
export async function bundleForBrowser(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2023",
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

export interface StaticFile {
  readonly type: string;
  readonly body: string;
}

export interface StaticSite {
  /** http://127.0.0.1:<port>, no trailing slash. */
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `files` (by path, e.g. "/app.js") from 127.0.0.1 on a port the OS picks. */
export async function serveStatic(
  files: Readonly<Record<string, StaticFile>>,
): Promise<StaticSite> {
  const server = createServer((req, res) => {
    const file = files[new URL(req.url ?? "/", "http://x").pathname];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res
      .writeHead(200, {
        "content-type": `${file.type}; charset=utf-8`,
        "cache-control": "no-store",
      })
      .end(file.body);
  });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((closed) => {
        server.closeAllConnections();
        server.close(() => closed());
      }),
  };
}

/**
 * Collects what went wrong on `page`: uncaught exceptions and rejections,
 * and console errors (which include resources that failed to load). A test
 * asserts the list is empty.
 */
export function watchForErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(`uncaught: ${err.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console.error: ${message.text()}`);
  });
  return errors;
}
