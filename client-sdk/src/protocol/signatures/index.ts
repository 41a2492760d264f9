export { createVerifier, type Ed25519Backend, type SignatureVerifier } from "./backend.ts";
export { nobleBackend } from "./noble.ts";
export { publicKeyViolation, type RuleViolation, ruleViolation } from "./rule.ts";
export { webCryptoBackend, webCryptoHasEd25519 } from "./webcrypto.ts";

import { createVerifier, type SignatureVerifier } from "./backend.ts";
import { nobleBackend } from "./noble.ts";
import { webCryptoBackend, webCryptoHasEd25519 } from "./webcrypto.ts";

/**
 * The best portable verifier for this runtime: WebCrypto where it implements
 * Ed25519, noble otherwise. (On Node, `@edgeledger/sdk/protocol/node` has the
 * faster synchronous native one.) Every choice applies the same rule.
 */
export async function createDefaultVerifier(): Promise<SignatureVerifier> {
  return createVerifier((await webCryptoHasEd25519()) ? webCryptoBackend() : nobleBackend);
}
