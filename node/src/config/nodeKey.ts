/**
 * The node's libp2p identity, kept in home/node_key.json (mode 0600) so the
 * peer id, which others list in their bootstrap addresses, survives restarts.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fromHex, toHex } from "@edgeledger/sdk/protocol";
import type { PrivateKey } from "@libp2p/interface";
import { decodePeerKey, newPeerKey } from "../network/host.ts";
import { ConfigError } from "./errors.ts";

export async function createNodeKeyFile(file: string): Promise<PrivateKey> {
  const { key, encoded } = await newPeerKey();
  writeFileSync(file, `${JSON.stringify({ peerKey: toHex(encoded) }, null, 2)}\n`, {
    mode: 0o600,
    flag: "wx",
  });
  return key;
}

/** Reads the node key, creating one on first use (homes made before networking had none). */
export async function loadNodeKey(file: string): Promise<PrivateKey> {
  if (!existsSync(file)) return createNodeKeyFile(file);
  try {
    const { peerKey } = JSON.parse(readFileSync(file, "utf8")) as { peerKey: string };
    return decodePeerKey(fromHex(peerKey));
  } catch {
    throw ConfigError.invalid(
      file,
      "peerKey",
      "is not a valid libp2p key",
      "delete the file to make a new peer identity",
    );
  }
}
