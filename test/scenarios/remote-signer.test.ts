/**
 * A validator whose key is in a remote signer (`edgeledger signer`, a real
 * process) in a 4-validator network. With another validator down, three of
 * four must sign every certificate, so a block committed then proves that
 * the remote-signed validator voted. Three phases:
 *   1. it signs through the signer and the network commits;
 *   2. the signer is killed: the network goes on without that validator's
 *      votes; the validator restarted while the signer is down starts without
 *      its key; the signer restarted, it votes again, and its status and
 *      health name the key (no second restart of the node);
 *   3. a hot standby (a second validator process, its own home and peer
 *      identity, the same signer) runs beside the active one; the active one
 *      is killed and the standby carries the validator's votes — and no block
 *      records duplicate-vote evidence against that validator.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { connectionKeyOf, initSignerHome, paths } from "@edgeledger/node";
import { api, freePort, kill9, startNode } from "@edgeledger/node/testing";
import type {
  BlockJson,
  NodeHealthJson,
  StatusJson,
  TransactionStatusJson,
  ValidatorsJson,
} from "@edgeledger/sdk/api";
import { LIFELINE_ENV } from "@edgeledger/sdk/node";
import { toHex } from "@edgeledger/sdk/protocol";
import { describe, expect, it } from "vitest";
import { type TestNetwork, withNetwork } from "../src/network.ts";

const CLI = resolve(import.meta.dirname, "../../cli/src/main.ts");
const REMOTE = 3;
const OTHER = 2;

/** `edgeledger signer start --home` as a process; resolves once it listens. */
async function startSignerProcess(home: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, "signer", "start", "--home", home], {
    stdio: ["pipe", "pipe", "pipe"],
    env: {
      ...process.env,
      ...(process.env["NET_DEBUG"] && { EDGELEDGER_LOG_LEVEL: "debug" }),
      [LIFELINE_ENV]: "stdin",
    },
  });
  let output = "";
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`signer did not start:\n${output}`)), 20_000);
    const onData = (d: Buffer) => {
      output += d;
      if (output.includes("listening on")) {
        clearTimeout(timer);
        done();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (d: Buffer) => (output += d));
    // NET_DEBUG=1 keeps the signer's output too, beside the nodes' (harness.ts).
    if (process.env["NET_DEBUG"]) {
      const file = join(tmpdir(), `edgeledger-signer-${child.pid}.log`);
      child.stdout?.on("data", (d: Buffer) => appendFileSync(file, d));
      child.stderr?.on("data", (d: Buffer) => appendFileSync(file, d));
    }
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`signer exited (${code}):\n${output}`));
    });
  });
  return child;
}

/** The validator indexes whose precommits certify the block holding `hash`. */
async function certificateOf(net: TestNetwork, hash: string): Promise<number[]> {
  const url = net.nodes[0]!.apiUrl;
  const tx = await api<TransactionStatusJson>(`${url}/v1/transactions/${hash}`);
  return tx.body.block?.certificate.signatures.map((s) => s.validatorIndex) ?? [];
}

/** Every duplicate-vote evidence recorded in blocks 1..head, by validator (hex). */
async function evidenceAgainst(net: TestNetwork, validator: string): Promise<number> {
  const url = net.nodes[0]!.apiUrl;
  const head = (await api<StatusJson>(`${url}/v1/status`)).body.height;
  let found = 0;
  for (let h = 1; h <= head; h++) {
    const block = await api<BlockJson>(`${url}/v1/blocks/${h}`);
    found += block.body.evidence.filter((e) => e.validator === validator).length;
  }
  return found;
}

function setConfig(home: string, edit: (config: Record<string, unknown>) => void): void {
  const file = paths(home).config;
  const config = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  edit(config);
  writeFileSync(file, JSON.stringify(config, null, 2));
}

describe("remote signer", () => {
  it(
    "signs for a validator, survives its own restart, and a hot standby takes over without a double-sign",
    () =>
      withNetwork({ validators: 4, startLater: [REMOTE] }, async (net) => {
        const dir = mkdtempSync(join(tmpdir(), "edgeledger-signer-"));
        const processes: ChildProcess[] = [];
        try {
          // The remote validator's key moves to the signer's home; its own home keeps none.
          const node = net.nodes[REMOTE]!;
          const keyFile = paths(node.home).validatorKey;
          const validatorHex = toHex(net.keyOf(REMOTE).publicKey);
          const standbyHome = join(dir, "standby");
          cpSync(node.home, standbyHome, {
            recursive: true,
            filter: (src) => !/node_key\.json$|validator_key\.json$|[/\\]data$/.test(src),
          });
          const signerHome = join(dir, "signer");
          const { connectionKey } = await initSignerHome(signerHome, {
            chainId: net.chainId,
            listen: `127.0.0.1:${await freePort()}`,
            allowedValidators: [
              await connectionKeyOf(paths(node.home).nodeKey),
              await connectionKeyOf(paths(standbyHome).nodeKey),
            ],
            validatorKeyFile: keyFile,
          });
          rmSync(keyFile);
          const address = JSON.parse(readFileSync(join(signerHome, "signer.json"), "utf8")).listen;
          for (const home of [node.home, standbyHome])
            setConfig(home, (c) => {
              c["signer"] = { address, publicKey: connectionKey };
            });
          const validators = await api<ValidatorsJson>(`${net.nodes[0]!.apiUrl}/v1/validators`);
          const remoteIndex = validators.body.validators.findIndex(
            (v) => v.publicKey === validatorHex,
          );
          expect(remoteIndex).toBeGreaterThanOrEqual(0);

          let signer = await startSignerProcess(signerHome);
          processes.push(signer);
          await net.start(REMOTE);

          // 1. With another validator down, a commit needs the remote-signed validator's precommit.
          await net.waitCommitted([await net.transfer(0)], 0, 60_000);
          await net.kill(OTHER);
          const needsRemote = await net.transfer(0);
          await net.waitCommitted([needsRemote], 0, 60_000);
          expect(await certificateOf(net, needsRemote)).toContain(remoteIndex);
          await net.start(OTHER);

          // 2. The signer killed: 3 of 4 still commit, the validator's process keeps running.
          await kill9(signer);
          const without = await net.transfer(0);
          await net.waitCommitted([without], 0, 60_000);
          expect(node.process).not.toBeNull();
          // The validator restarted while its signer is still down: it starts without
          // the key (after a bounded wait), and takes it up when the signer is back.
          await net.kill(REMOTE);
          await net.start(REMOTE);
          const remoteUrl = net.nodes[REMOTE]!.apiUrl;
          expect((await api<StatusJson>(`${remoteUrl}/v1/status`)).body.validator).toBeNull();
          signer = await startSignerProcess(signerHome);
          processes.push(signer);
          await net.kill(OTHER);
          const afterRestart = await net.transfer(0);
          await net.waitCommitted([afterRestart], 0, 60_000);
          expect(await certificateOf(net, afterRestart)).toContain(remoteIndex);
          // Status and health name the key the signer holds, without a restart of the node.
          const status = (await api<StatusJson>(`${remoteUrl}/v1/status`)).body;
          expect(status.validator?.publicKey).toBe(validatorHex);
          const health = await api<NodeHealthJson>(`${remoteUrl}/v1/health?probe=live`);
          expect(health.body.validator).toBe(true);
          await net.start(OTHER);

          // 3. A hot standby beside the active validator, then the active one killed.
          const standbyApi = await freePort();
          const standbyP2p = await freePort();
          setConfig(standbyHome, (c) => {
            (c["api"] as { port: number }).port = standbyApi;
            (c["network"] as { listen: string[] }).listen = [`/ip4/127.0.0.1/tcp/${standbyP2p}`];
          });
          const standby = await startNode({
            home: standbyHome,
            url: `http://127.0.0.1:${standbyApi}`,
          });
          processes.push(standby);
          const both: string[] = [];
          for (let i = 0; i < 5; i++) both.push(await net.transfer(i % 3));
          await net.waitCommitted(both, 0, 60_000);
          await net.kill(REMOTE);
          await net.kill(OTHER);
          const byStandby = await net.transfer(0);
          await net.waitCommitted([byStandby], 0, 60_000);
          expect(await certificateOf(net, byStandby)).toContain(remoteIndex);
          await net.start(OTHER);
          await net.waitCommitted([await net.transfer(OTHER)], 0, 60_000);

          // Two processes, one key, one signer: never two conflicting votes.
          expect(await evidenceAgainst(net, validatorHex)).toBe(0);
        } finally {
          for (const p of processes) await kill9(p);
          rmSync(dir, { recursive: true, force: true });
        }
      }),
    240_000,
  );
});
