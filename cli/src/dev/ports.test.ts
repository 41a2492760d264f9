/**
 * The port check before `edgeledger dev` starts: a free port passes, a held
 * one is refused naming its holder (this test process, which holds it), and
 * the /proc/net/tcp parser reads only listening sockets of the port asked.
 */
import { createServer, type Server } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { assertPortsFree, listeningInodes, PortInUseError, portHolder } from "./ports.ts";

const servers: Server[] = [];
afterAll(() => Promise.all(servers.map((s) => new Promise((done) => s.close(done)))));

function hold(): Promise<number> {
  const s = createServer();
  servers.push(s);
  return new Promise((done) =>
    s.listen(0, "127.0.0.1", () => done((s.address() as { port: number }).port)),
  );
}

describe("assertPortsFree", () => {
  it("passes free ports and names the holder of a taken one", async () => {
    const taken = await hold();
    const free = await hold().then(async (p) => {
      const s = servers.pop()!;
      await new Promise((done) => s.close(done));
      return p;
    });
    await expect(
      assertPortsFree([{ host: "127.0.0.1", port: free, what: "validator-0 API" }]),
    ).resolves.toBeUndefined();
    const refused = assertPortsFree([
      { host: "127.0.0.1", port: free, what: "validator-0 API" },
      { host: "127.0.0.1", port: taken, what: "edge API" },
    ]);
    await expect(refused).rejects.toBeInstanceOf(PortInUseError);
    await expect(refused).rejects.toMatchObject({
      code: "DEV_PORT_IN_USE",
      details: { ports: [taken] },
    });
    await expect(refused).rejects.toThrow(
      `127.0.0.1:${taken} (edge API) is held by pid ${process.pid}`,
    );
    await expect(refused).rejects.toThrow(`kill ${process.pid}`);
    expect(portHolder(taken)?.pid).toBe(process.pid);
  });
});

describe("listeningInodes", () => {
  const table = [
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
    "   0: 0100007F:2161 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 111 1",
    "   1: 0100007F:2161 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 222 1",
    "   2: 0100007F:2162 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 333 1",
  ].join("\n");
  it("finds the listening socket of the port, not a connection on it nor another port", () => {
    expect(listeningInodes(table, 0x2161)).toEqual(["111"]);
    expect(listeningInodes(table, 0x2162)).toEqual(["333"]);
    expect(listeningInodes(table, 0x2163)).toEqual([]);
  });
});
