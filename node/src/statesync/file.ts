/**
 * Offline backup and restore of one height's state (`edgeledger snapshot
 * export|import`): the same frames the protocol serves, in a file, checked
 * on import the same way a join checks them (chunks.ts).
 *
 *   file  "edgeledger-snapshot/1\n" ‖ u8 depth ‖ frames (u32 length ‖ bytes):
 *         header, certificate, validators(h), validators(h+1), manifest,
 *         then the 2^depth chunks in order
 *
 * Trust: the file is the operator's own. Import checks that the header is
 * final under the validator set it names, that the state rebuilds to the
 * header's state root, and that the chain id is the home's; it prints the
 * block hash, which the operator can compare with a node they trust. It
 * refuses a home whose database already holds a chain.
 */
import { open } from "node:fs/promises";
import {
  BaseError,
  blockHash,
  encodeBlockHeader,
  encodeFinalityCertificate,
  encodeValidatorSet,
  toHex,
  verifyCommittedHeader,
} from "@edgeledger/sdk/protocol";
import { createNativeVerifier } from "@edgeledger/sdk/protocol/node";
import { Chain } from "../chain/chain.ts";
import type { Genesis } from "../chain/genesis.ts";
import { Database } from "../db/database.ts";
import { SyncError } from "../sync/errors.ts";
import { frame } from "../sync/frames.ts";
import {
  chunkDepth,
  decodeChunk,
  decodeHeaderReply,
  decodeManifest,
  encodeChunk,
  encodeManifest,
  MAX_CHUNK_BYTES,
  MAX_HEADER_FRAME_BYTES,
  MAX_MANIFEST_BYTES,
  verifyChunk,
  verifyManifest,
} from "./chunks.ts";
import { recordSnapshotHead } from "./join.ts";

const MAGIC = new TextEncoder().encode("edgeledger-snapshot/1\n");

export type SnapshotFileErrorCode =
  | "SNAPSHOT_NOT_KEPT"
  | "SNAPSHOT_BAD_FILE"
  | "SNAPSHOT_HOME_NOT_EMPTY";

export class SnapshotFileError extends BaseError<SnapshotFileErrorCode> {
  override name = "SnapshotFileError";
}

export interface SnapshotFileResult {
  readonly height: number;
  readonly blockHash: string;
  readonly chunks: number;
  readonly bytes: number;
}

/** Writes the state at `height` of the (stopped) node whose LevelDB is `dataDir` to `file`. */
export async function exportSnapshot(
  dataDir: string,
  genesis: Genesis,
  height: number,
  file: string,
): Promise<SnapshotFileResult> {
  const db = new Database(dataDir);
  await db.open();
  const out = await open(file, "w");
  try {
    const chain = new Chain(db, genesis);
    await chain.init();
    const header = db.getHeader(height);
    const certificate = db.getCertificate(height);
    if (
      !header ||
      !certificate ||
      height > chain.head.height ||
      height < db.oldestState(chain.head.height)
    )
      throw new SnapshotFileError(
        "SNAPSHOT_NOT_KEPT",
        `This node keeps no state at height ${height}.`,
        {
          details: {
            height,
            head: chain.head.height,
            fix: "give a height within the kept window (pruning.keepRecent) or a snapshot height",
          },
        },
      );
    const root = header.stateRoot;
    const depth = chunkDepth(chain.tree, root);
    let bytes = 0;
    const write = async (b: Uint8Array) => {
      await out.write(b);
      bytes += b.length;
    };
    await write(MAGIC);
    await write(Uint8Array.of(depth));
    for (const part of [
      encodeBlockHeader(header),
      encodeFinalityCertificate(certificate),
      encodeValidatorSet(chain.validatorsAt(height)),
      encodeValidatorSet(chain.validatorsAt(height + 1)),
      encodeManifest(chain.tree.frontier(root, depth)),
    ])
      await write(frame(part));
    for (let index = 0; index < 2 ** depth; index++)
      await write(
        frame(
          encodeChunk({ height, depth, index, leaves: chain.tree.leavesUnder(root, depth, index) }),
        ),
      );
    return { height, blockHash: toHex(blockHash(header)), chunks: 2 ** depth, bytes };
  } finally {
    await out.close();
    await db.close();
  }
}

/** Restores a file `exportSnapshot` wrote into the empty database `dataDir` (see the module comment). */
export async function importSnapshot(
  dataDir: string,
  genesis: Genesis,
  file: string,
): Promise<SnapshotFileResult> {
  const input = await open(file, "r");
  const db = new Database(dataDir);
  await db.open();
  try {
    if (db.getMeta("head") !== undefined || db.getMeta("genesis") !== undefined)
      throw new SnapshotFileError("SNAPSHOT_HOME_NOT_EMPTY", `${dataDir} already holds a chain.`, {
        details: {
          fix: "import into a new home (`edgeledger init`), or move its data folder away",
        },
      });
    let at = 0;
    const read = async (n: number): Promise<Uint8Array> => {
      const b = new Uint8Array(n);
      const { bytesRead } = await input.read(b, 0, n, at);
      if (bytesRead !== n) throw bad("it ends early");
      at += n;
      return b;
    };
    const readFrame = async (bound: number): Promise<Uint8Array> => {
      const length = new DataView((await read(4)).buffer).getUint32(0);
      if (length > bound) throw bad(`a frame of ${length} bytes is above its bound ${bound}`);
      return read(length);
    };
    const magic = await read(MAGIC.length);
    if (!magic.every((b, i) => b === MAGIC[i])) throw bad("it is not an edgeledger snapshot");
    const depth = (await read(1))[0]!;
    const parts: Uint8Array[] = [];
    for (let i = 0; i < 4; i++) parts.push(await readFrame(MAX_HEADER_FRAME_BYTES));
    const certified = decodeHeaderReply(parts);
    const { header } = certified;
    if (header.chainId !== genesis.chainId)
      throw bad(`it is of chain ${header.chainId}, not ${genesis.chainId}`);
    await verifyCommittedHeader(genesis.chainId, certified, createNativeVerifier());
    const root = header.stateRoot;
    const refs = decodeManifest(await readFrame(MAX_MANIFEST_BYTES), depth);
    const top = verifyManifest(root, refs);
    for (let index = 0; index < 2 ** depth; index++) {
      const chunk = decodeChunk(await readFrame(MAX_CHUNK_BYTES), {
        height: header.height,
        depth,
        index,
      });
      await db.putStateNodes(verifyChunk(refs[index]!, chunk), header.height);
    }
    await db.putStateNodes(top, header.height);
    await recordSnapshotHead({ db, genesis }, certified, root);
    return {
      height: header.height,
      blockHash: toHex(blockHash(header)),
      chunks: 2 ** depth,
      bytes: at,
    };
  } catch (cause) {
    if (cause instanceof SyncError) throw bad(cause.shortMessage, cause);
    throw cause;
  } finally {
    await db.close();
    await input.close();
  }
}

function bad(why: string, cause?: unknown): SnapshotFileError {
  return new SnapshotFileError("SNAPSHOT_BAD_FILE", `The snapshot file is refused: ${why}.`, {
    ...(cause !== undefined && { cause }),
  });
}
