/**
 * `edgeledger signer start`: the signer of --home until SIGINT or SIGTERM (or
 * until its launcher goes: main.ts watches the lifeline).
 */
import { resolve } from "node:path";
import { startSigner } from "@edgeledger/node";
import { toHex } from "@edgeledger/sdk/protocol";
import { untilSignal } from "../../../util/untilSignal.ts";
import type { SignerStartArgs } from "./options.ts";

export async function signerStartHandler(args: SignerStartArgs): Promise<void> {
  const running = await startSigner(
    resolve(args.home),
    args.listen !== undefined ? { listen: args.listen } : {},
  );
  // Scripts (and the scenarios) wait for this line: it names the bound address.
  console.log(
    `edgeledger signer (pid ${process.pid}) for validator ${toHex(running.validator)} listening on ${running.address}`,
  );
  await untilSignal();
  await running.stop();
  console.log(`edgeledger signer (pid ${process.pid}) stopped`);
}
