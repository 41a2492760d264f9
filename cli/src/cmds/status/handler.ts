/**
 * `edgeledger status`: the node's status as JSON, through the SDK's
 * getStatus (informational: nothing in it is verified).
 */
import { clientFor } from "../../util/client.ts";
import type { StatusArgs } from "./options.ts";

export async function statusHandler(args: StatusArgs): Promise<void> {
  console.log(JSON.stringify(await clientFor(args).getStatus(), null, 2));
}
