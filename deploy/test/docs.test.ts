/**
 * docs/deploy.md's commands, and those of the README's "Beyond one machine"
 * section, as a reader runs them: every line of their `sh` blocks, in order, from the repository root (so `npm run edgeledger`
 * through the same script a user gets), with `deploy/` moved to a copy in
 * a temporary folder and `.edgeledger/` to that folder, so nothing is
 * written into the checkout. A line that says "(not run" (a container
 * engine or a cluster: neither is here) is left out, and the page says so.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "./network.ts";

const dir = mkdtempSync(join(tmpdir(), "deploy-docs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Every command line of the page's `sh` blocks (of its `section` only, if
 * given), and whether the page says it is not run here.
 */
function pageCommands(file: string, section?: string): { line: string; run: boolean }[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const page =
    section === undefined ? text : (text.split(`\n${section}\n`)[1]?.split("\n## ")[0] ?? "");
  return page
    .split("```sh")
    .slice(1)
    .flatMap((block) =>
      block
        .split("```")[0]!
        .replace(/\\\n\s*/g, " ")
        .split("\n"),
    )
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .map((l) => ({ line: l.replace(/\s+#.*$/, ""), run: !l.includes("(not run") }));
}

/** Runs `lines` from the repository root with deploy/ and .edgeledger/ moved into `into`. */
function runMoved(lines: readonly string[], into: string): void {
  cpSync(join(ROOT, "deploy"), join(into, "deploy"), {
    recursive: true,
    filter: (src) => !src.includes("/kubernetes/network") && !src.includes("node_modules"),
  });
  for (const line of lines) {
    const moved = line
      .replace(/(^|\s)deploy\//g, `$1${into}/deploy/`)
      .replace(/(^|\s|>)\s*\.edgeledger\//g, (m) => m.replace(".edgeledger/", `${into}/`));
    try {
      execFileSync("sh", ["-c", moved], { cwd: ROOT, stdio: "pipe" });
    } catch (err) {
      const e = err as { stderr?: Buffer; stdout?: Buffer };
      throw new Error(
        `\`${line}\` failed:\n${e.stderr?.toString() ?? ""}${e.stdout?.toString() ?? ""}`,
      );
    }
  }
}

describe("docs/deploy.md", () => {
  it("every command it does not mark as not run works, in order", () => {
    const commands = pageCommands("docs/deploy.md");
    const run = commands.filter((c) => c.run).map((c) => c.line);
    expect(run).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^npm run edgeledger -- testnet .*--kubernetes deploy\/kubernetes\/network$/,
        ),
        "kubectl kustomize deploy/kubernetes/overlays/validators",
      ]),
    );
    // What is left out needs what this machine lacks, and nothing else.
    for (const c of commands.filter((x) => !x.run))
      expect(c.line).toMatch(
        /^(docker |podman |kubectl apply |kubectl -n |curl |npm test -w deploy$|EDGELEDGER_UID=.* docker compose )/,
      );
    runMoved(run, dir);
    expect(readFileSync(join(dir, "testnet.yaml"), "utf8")).toMatch(/kind: StatefulSet/);
  });
});

describe("the README's Beyond one machine", () => {
  it("renders the manifests with the commands it shows", () => {
    const commands = pageCommands("README.md", "## Beyond one machine");
    expect(commands.map((c) => c.run)).toEqual([true, true]);
    const into = join(dir, "readme");
    runMoved(
      commands.map((c) => c.line),
      into,
    );
    const rendered = readFileSync(join(into, "testnet.yaml"), "utf8");
    for (const kind of ["StatefulSet", "Deployment", "HorizontalPodAutoscaler"])
      expect(rendered).toMatch(new RegExp(`kind: ${kind}`));
    expect(rendered.match(/^kind: StatefulSet$/gm)).toHaveLength(6);
  });
});
