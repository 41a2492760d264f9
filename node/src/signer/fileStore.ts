/**
 * The signer's journal on disk: one small JSON file in its home, replaced
 * atomically (written beside, fsynced, renamed, the folder fsynced) before
 * a signature leaves the process, so a crash at any point leaves either the
 * old record or the new one, never a torn one. A LevelDB would do the same
 * with more machinery; the record is a few hundred bytes.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { fromHex, toHex } from "@edgeledger/sdk/protocol";
import type { SigningStore } from "../consensus/signingGuard.ts";

interface StoredFile {
  record: string;
  blocks: { proposed?: string; valid?: string };
}

type Bytes = Uint8Array;

export class FileSigningStore implements SigningStore {
  readonly #file: string;
  #current: StoredFile | null;

  constructor(file: string) {
    this.#file = file;
    this.#current = existsSync(file)
      ? (JSON.parse(readFileSync(file, "utf8")) as StoredFile)
      : null;
  }

  getSigningRecord(): Bytes | undefined {
    return this.#current ? fromHex(this.#current.record) : undefined;
  }

  getSigningBlock(which: "proposed" | "valid"): Bytes | undefined {
    const hex = this.#current?.blocks[which];
    return hex === undefined ? undefined : fromHex(hex);
  }

  async putSigningRecord(
    value: Bytes,
    blocks: readonly { key: "proposed" | "valid"; bytes: Bytes }[] = [],
  ): Promise<void> {
    const next: StoredFile = { record: toHex(value), blocks: { ...this.#current?.blocks } };
    for (const b of blocks) next.blocks[b.key] = toHex(b.bytes);
    const tmp = `${this.#file}.tmp`;
    const fd = openSync(tmp, "w", 0o600);
    try {
      writeSync(fd, JSON.stringify(next));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.#file);
    // The rename itself must survive a power cut: sync the folder's entry too.
    const dir = openSync(dirname(this.#file), "r");
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
    this.#current = next;
  }
}
