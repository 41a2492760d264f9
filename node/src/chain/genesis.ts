/**
 * Genesis: the chain's first state, validator set and the height-0 header
 * that block 1 builds on (and light clients trust). Parsed from
 * genesis.json with errors that name the key and the fix.
 */
import {
  accountKey,
  type BlockHeader,
  blockHash,
  CHAIN_ID_PATTERN,
  compareBytes,
  EMPTY_ROOT,
  encodeAccount,
  formatAddress,
  fromHex,
  merkleRoot,
  parseAddress,
  SparseMerkleTree,
  type TreeUpdate,
  toHex,
  type ValidatorSet,
  validatorSetHash,
} from "@edgeledger/sdk/protocol";
import { ConfigError } from "../config/errors.ts";

/** The chain id `edgeledger dev` (`npm start`) creates. */
export const DEV_CHAIN_ID = "edgeledger-dev";

/**
 * Dev chains are the only ones where a node may hold a funded account's key
 * and sign for it (POST /v1/dev/transfer): "edgeledger-dev" itself or any id
 * starting with "edgeledger-dev-". The rule rests on the chain id because
 * it is fixed in the genesis every node of a chain shares: a real network,
 * which is not named so, cannot be given a node-held spending key by a
 * stray --dev-key.
 */
export function isDevChainId(chainId: string): boolean {
  return chainId === DEV_CHAIN_ID || chainId.startsWith(`${DEV_CHAIN_ID}-`);
}

export interface GenesisFile {
  chainId: string;
  /** Unix ms; block 1's time must be later. */
  genesisTime: number;
  validators: { publicKey: string; power: string }[];
  accounts: { address: string; balance: string }[];
}

export interface Genesis {
  readonly chainId: string;
  readonly time: number;
  readonly validators: ValidatorSet;
  readonly accounts: readonly { address: Uint8Array; balance: bigint }[];
}

export function parseGenesis(raw: unknown, file: string): Genesis {
  const bad = (key: string, problem: string, fix: string): never => {
    throw ConfigError.invalid(file, key, problem, fix);
  };
  if (typeof raw !== "object" || raw === null)
    bad("(root)", "is not a JSON object", "write the genesis as a JSON object");
  const g = raw as Partial<GenesisFile>;
  if (typeof g.chainId !== "string" || !CHAIN_ID_PATTERN.test(g.chainId) || g.chainId.length > 64) {
    bad("chainId", "must be 1-64 chars of a-z, 0-9 and '-'", 'set e.g. "chainId": "my-chain"');
  }
  if (!Number.isSafeInteger(g.genesisTime) || (g.genesisTime ?? -1) < 0)
    bad("genesisTime", "must be unix milliseconds", "set it to Date.now() at creation");
  if (!Array.isArray(g.validators) || g.validators.length === 0)
    bad("validators", "must list at least one validator", "add { publicKey, power }");
  const validators = g.validators!.map((v, i) => {
    let publicKey: Uint8Array | undefined;
    try {
      publicKey = fromHex(v.publicKey, 32);
    } catch {
      bad(
        `validators[${i}].publicKey`,
        "must be 64 hex characters",
        "use `edgeledger keys show` output",
      );
    }
    if (!/^[1-9][0-9]*$/.test(v.power))
      bad(`validators[${i}].power`, "must be a positive integer string", 'use e.g. "1"');
    return { publicKey: publicKey!, power: BigInt(v.power) };
  });
  validators.sort((a, b) => compareBytes(a.publicKey, b.publicKey));
  if (!Array.isArray(g.accounts)) bad("accounts", "must be a list", "use [] for none");
  const accounts = g.accounts!.map((a, i) => {
    let address: Uint8Array | undefined;
    try {
      address = parseAddress(a.address);
    } catch {
      bad(`accounts[${i}].address`, "is not a valid el1… address", "copy the address again");
    }
    if (!/^[0-9]+$/.test(a.balance))
      bad(`accounts[${i}].balance`, "must be a non-negative integer string", 'use e.g. "1000000"');
    return { address: address!, balance: BigInt(a.balance) };
  });
  return { chainId: g.chainId!, time: g.genesisTime!, validators, accounts };
}

export function genesisToFile(g: Genesis): GenesisFile {
  return {
    chainId: g.chainId,
    genesisTime: g.time,
    validators: g.validators.map((v) => ({
      publicKey: toHex(v.publicKey),
      power: v.power.toString(),
    })),
    accounts: g.accounts.map((a) => ({
      address: formatAddress(a.address),
      balance: a.balance.toString(),
    })),
  };
}

/** The genesis state tree and the height-0 header. */
export function genesisState(g: Genesis): {
  header: BlockHeader;
  hash: Uint8Array;
  state: TreeUpdate;
} {
  const state = SparseMerkleTree.build(
    g.accounts.map((a) => [accountKey(a.address), encodeAccount({ balance: a.balance, nonce: 0 })]),
  );
  const setHash = validatorSetHash(g.validators);
  const header: BlockHeader = {
    chainId: g.chainId,
    height: 0,
    time: g.time,
    parentHash: EMPTY_ROOT,
    txRoot: merkleRoot([]),
    txCount: 0,
    evidenceRoot: merkleRoot([]),
    stateRoot: state.root,
    validatorsHash: setHash,
    nextValidatorsHash: setHash,
    proposer: new Uint8Array(32),
  };
  return { header, hash: blockHash(header), state };
}
