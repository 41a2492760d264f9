/** `edgeledger init`: writes a node home with node's `init` and says what to run next. */
import { init } from "@edgeledger/node/homes";
import type { InitArgs } from "./options.ts";

export function initHandler(args: InitArgs): void {
  const r = init(args);
  console.log(
    `initialized ${r.home}\nvalidator ${r.validator}\nnext: edgeledger start --home ${args.home}`,
  );
}
