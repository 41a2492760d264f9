/**
 * The explorer web app (@edgeledger/explorer) at /explorer, when the node's
 * `explorer` setting (or `edgeledger start --explorer`) asks for it: the
 * built files, with this node's chain id and genesis hash written into the
 * page, which verifies every answer again in the browser. Static files, out
 * of the OpenAPI document (they are not part of the HTTP contract).
 */
import { EXPLORER_PATH, type ExplorerConfig, explorerAnswer } from "@edgeledger/explorer";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

export function registerExplorer(app: FastifyInstance, config: ExplorerConfig): void {
  const serve = (request: FastifyRequest, reply: FastifyReply) => {
    const answer = explorerAnswer(request.url.split("?")[0]!, config);
    if (!answer) return reply.callNotFound();
    return reply.code(answer.status).headers(answer.headers).send(answer.body);
  };
  app.get(EXPLORER_PATH, { schema: { hide: true } }, serve);
  app.get(`${EXPLORER_PATH}/*`, { schema: { hide: true } }, serve);
}
