/**
 * Key files: `{ publicKey, address, secretKey }` (hex, bech32m), written
 * with mode 0600 and refused when others can read them, so a key on disk is
 * never world-readable by accident.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { addressFromPublicKey, formatAddress, SecretKey, toHex } from "@edgeledger/sdk/protocol";
import { ConfigError } from "./errors.ts";

export function writeKeyFile(file: string, key: SecretKey): void {
  if (existsSync(file))
    throw ConfigError.invalid(
      file,
      "(file)",
      "already exists",
      "choose another path; a key is never overwritten",
    );
  const body = {
    publicKey: toHex(key.publicKey),
    address: formatAddress(addressFromPublicKey(key.publicKey)),
    secretKey: key.exportHex(),
  };
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600, flag: "wx" });
}

export function readKeyFile(file: string): SecretKey {
  if (!existsSync(file))
    throw new ConfigError(
      "CONFIG_MISSING",
      `${file} does not exist. Fix: run \`edgeledger init\` or \`edgeledger keys new\`.`,
    );
  const mode = statSync(file).mode & 0o777;
  if (process.platform !== "win32" && (mode & 0o077) !== 0) {
    throw ConfigError.invalid(
      file,
      "(permissions)",
      `is readable by others (mode ${mode.toString(8)})`,
      `chmod 600 ${file}`,
    );
  }
  let parsed: { secretKey?: unknown };
  try {
    parsed = JSON.parse(readFileSync(file, "utf8")) as { secretKey?: unknown };
  } catch {
    throw ConfigError.invalid(file, "(file)", "is not JSON", "restore the key file from backup");
  }
  if (typeof parsed.secretKey !== "string")
    throw ConfigError.invalid(file, "secretKey", "is missing", "restore the key file from backup");
  try {
    return SecretKey.fromHex(parsed.secretKey);
  } catch {
    throw ConfigError.invalid(
      file,
      "secretKey",
      "is not 64 hex characters",
      "restore the key file from backup",
    );
  }
}
