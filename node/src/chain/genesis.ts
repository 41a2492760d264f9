/**
 * Genesis: the chain's first state, validator set and the height-0 header
 * that block 1 builds on (and light clients trust). Parsed from
 * genesis.json with errors that name the key and the fix. Accounts are
 * listed one by one, or derived from a seed (`derivedAccounts`) so that a
 * genesis of 10^6 accounts stays a small file; genesisBuild.ts writes the
 * state of a large one to the database in bounded chunks. `upgrades` is the
 * protocol-version activation schedule (operations.md, "Upgrades"); it is
 * not in the genesis hash (upgrades.ts says why).
 */
import {
  ADDRESS_LENGTH,
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
  scheduleViolation,
  type TreeUpdate,
  taggedHash,
  toHex,
  type UpgradeSchedule,
  type ValidatorSet,
  validatorSetHash,
} from "@edgeledger/sdk/protocol";
import { ConfigError } from "../config/errors.ts";
import { SUPPORTED_PROTOCOL_VERSION } from "../state/rules.ts";

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
  /** `count` accounts of `balance` each, at addresses derived from `seed` (see derivedAddress). */
  derivedAccounts?: { seed: string; count: number; balance: string };
  /** Protocol-version activations, `{ height, version }` in increasing order; absent: version 1 forever. */
  upgrades?: { height: number; version: number }[];
}

/**
 * Accounts nobody holds keys for: receivers and state size for benchmarks
 * and load tests. Every node expands them the same way, so they cost the
 * genesis file nothing and every node reaches the same state root.
 */
export interface DerivedAccounts {
  readonly seed: Uint8Array;
  readonly count: number;
  readonly balance: bigint;
}

export interface Genesis {
  readonly chainId: string;
  readonly time: number;
  readonly validators: ValidatorSet;
  readonly accounts: readonly { address: Uint8Array; balance: bigint }[];
  readonly derivedAccounts?: DerivedAccounts;
  /** Absent or empty: version 1 forever. */
  readonly upgrades?: UpgradeSchedule;
}

/**
 * The most derived accounts a genesis may ask for. The node holds one
 * 32-byte key per account while it builds the genesis state (320 MB at this
 * bound), so the bound keeps a typo from exhausting memory.
 */
export const MAX_DERIVED_ACCOUNTS = 10_000_000;

/** Domain of derived addresses; changing it changes every such genesis. */
const DERIVED_ACCOUNT_TAG = "edgeledger/genesis/derived-account/v1";

/** Address `index` of a derived-account seed: the first 20 bytes of taggedHash(tag, seed ‖ u32 BE index). */
export function derivedAddress(seed: Uint8Array, index: number): Uint8Array {
  const i = new Uint8Array(4);
  new DataView(i.buffer).setUint32(0, index);
  return taggedHash(DERIVED_ACCOUNT_TAG, seed, i).slice(0, ADDRESS_LENGTH);
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
  const derived =
    g.derivedAccounts === undefined ? undefined : parseDerived(g.derivedAccounts, bad);
  return {
    chainId: g.chainId!,
    time: g.genesisTime!,
    validators,
    accounts,
    ...(derived && { derivedAccounts: derived }),
    ...(g.upgrades !== undefined && { upgrades: parseUpgrades(g.upgrades, bad) }),
  };
}

function parseUpgrades(
  raw: unknown,
  bad: (key: string, problem: string, fix: string) => never,
): UpgradeSchedule {
  const example = 'write [{ "height": 1000, "version": 2 }] or leave it out';
  if (!Array.isArray(raw)) bad("upgrades", "is not a list", example);
  const schedule = (raw as unknown[]).map((u, i) => {
    const e = (typeof u === "object" && u !== null ? u : {}) as Record<string, unknown>;
    if (typeof e["height"] !== "number" || typeof e["version"] !== "number")
      bad(`upgrades[${i}]`, "must be { height, version } with two integers", example);
    return { height: e["height"] as number, version: e["version"] as number };
  });
  const violation = scheduleViolation(schedule);
  if (violation !== null)
    bad("upgrades", violation, "list activations in increasing height and version");
  // A binary that does not know a version's rules cannot check its blocks:
  // refusing to start says so now, not at the activation height.
  const unknown = schedule.find((u) => u.version > SUPPORTED_PROTOCOL_VERSION);
  if (unknown)
    bad(
      "upgrades",
      `names protocol version ${unknown.version}, this build knows up to ${SUPPORTED_PROTOCOL_VERSION}`,
      "run a build that implements it",
    );
  return schedule;
}

function parseDerived(
  raw: unknown,
  bad: (key: string, problem: string, fix: string) => never,
): DerivedAccounts {
  if (typeof raw !== "object" || raw === null)
    bad(
      "derivedAccounts",
      "is not an object",
      'write { "seed", "count", "balance" } or leave it out',
    );
  const d = raw as Record<string, unknown>;
  let seed: Uint8Array | undefined;
  try {
    seed = fromHex(d["seed"] as string, 32);
  } catch {
    bad(
      "derivedAccounts.seed",
      "must be 64 hex characters (32 bytes)",
      "use e.g. `openssl rand -hex 32`",
    );
  }
  const count = d["count"];
  if (
    !Number.isSafeInteger(count) ||
    (count as number) < 1 ||
    (count as number) > MAX_DERIVED_ACCOUNTS
  )
    bad(
      "derivedAccounts.count",
      `must be an integer from 1 to ${MAX_DERIVED_ACCOUNTS}`,
      "lower it, or list the accounts in a second chain",
    );
  const balance = d["balance"];
  if (typeof balance !== "string" || !/^[1-9][0-9]*$/.test(balance))
    bad("derivedAccounts.balance", "must be a positive integer string", 'use e.g. "1000"');
  return { seed: seed!, count: count as number, balance: BigInt(balance as string) };
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
    ...(g.derivedAccounts && {
      derivedAccounts: {
        seed: toHex(g.derivedAccounts.seed),
        count: g.derivedAccounts.count,
        balance: g.derivedAccounts.balance.toString(),
      },
    }),
    ...(g.upgrades && { upgrades: g.upgrades.map((u) => ({ ...u })) }),
  };
}

/**
 * One genesis account as the state tree holds it. A listed address given
 * twice keeps its last balance (as it always has); a listed address that is
 * also a derived one is refused, since either balance would surprise.
 */
export interface GenesisEntry {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/** The listed accounts as state entries, a repeated address keeping its last balance. */
export function listedEntries(g: Genesis): GenesisEntry[] {
  const byAddress = new Map<string, GenesisEntry>();
  for (const a of g.accounts)
    byAddress.set(toHex(a.address), {
      key: accountKey(a.address),
      value: encodeAccount({ balance: a.balance, nonce: 0 }),
    });
  return [...byAddress.values()];
}

/** The error for a listed account that a derived one collides with. */
export function collisionError(address: Uint8Array, index: number): ConfigError {
  return ConfigError.invalid(
    "genesis.json",
    "accounts",
    `lists ${formatAddress(address)}, which is also derived account ${index} of derivedAccounts`,
    "remove it from accounts, or choose another derivedAccounts.seed",
  );
}

/** The genesis header over a state root (the validator set and time come from the genesis). */
export function genesisHeader(
  g: Genesis,
  stateRoot: Uint8Array,
): { header: BlockHeader; hash: Uint8Array } {
  const setHash = validatorSetHash(g.validators);
  const header: BlockHeader = {
    chainId: g.chainId,
    height: 0,
    time: g.time,
    parentHash: EMPTY_ROOT,
    txRoot: merkleRoot([]),
    txCount: 0,
    evidenceRoot: merkleRoot([]),
    stateRoot,
    validatorsHash: setHash,
    nextValidatorsHash: setHash,
    proposer: new Uint8Array(32),
  };
  return { header, hash: blockHash(header) };
}

/**
 * The genesis state tree, built in memory, and the height-0 header. Holds
 * every node at once: fine for listed accounts and small derived sets; the
 * node writes a large genesis with genesisBuild.ts instead.
 */
export function genesisState(g: Genesis): {
  header: BlockHeader;
  hash: Uint8Array;
  state: TreeUpdate;
} {
  const entries = listedEntries(g);
  const listed = new Map(entries.map((e) => [toHex(e.key), e]));
  const d = g.derivedAccounts;
  if (d) {
    const value = encodeAccount({ balance: d.balance, nonce: 0 });
    for (let i = 0; i < d.count; i++) {
      const address = derivedAddress(d.seed, i);
      const key = accountKey(address);
      if (listed.has(toHex(key))) throw collisionError(address, i);
      entries.push({ key, value });
    }
  }
  const state = SparseMerkleTree.build(entries.map((e) => [e.key, e.value]));
  return { ...genesisHeader(g, state.root), state };
}
