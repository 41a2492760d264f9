/** Configuration errors name the file, the key and the fix. */
import { BaseError } from "@edgeledger/sdk/protocol";

export class ConfigError extends BaseError<"CONFIG_INVALID" | "CONFIG_MISSING"> {
  override name = "ConfigError";

  static invalid(file: string, key: string, problem: string, fix: string): ConfigError {
    return new ConfigError("CONFIG_INVALID", `${file}: "${key}" ${problem}. Fix: ${fix}`, {
      details: { file, key, fix },
    });
  }
}
