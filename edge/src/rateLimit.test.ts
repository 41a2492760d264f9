import { describe, expect, it } from "vitest";
import { RateLimiter } from "./rateLimit.ts";

describe("rate limiter", () => {
  it("allows a burst, then one request per 1/rate seconds, per client", () => {
    let now = 0;
    const limiter = new RateLimiter({ ratePerSecond: 2, burst: 3 }, () => now);
    expect([1, 2, 3].map(() => limiter.take("a").allowed)).toEqual([true, true, true]);
    expect(limiter.take("a")).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(limiter.take("b").allowed).toBe(true);
    now += 500;
    expect(limiter.take("a").allowed).toBe(true);
    expect(limiter.take("a").allowed).toBe(false);
    now += 60_000;
    expect([1, 2, 3, 4].map(() => limiter.take("a").allowed)).toEqual([true, true, true, false]);
  });

  it("says how long to wait when the rate is slow", () => {
    const limiter = new RateLimiter({ ratePerSecond: 0.1, burst: 1 }, () => 0);
    limiter.take("a");
    expect(limiter.take("a")).toEqual({ allowed: false, retryAfterSeconds: 10 });
  });

  it("trusts no header by default: a client cannot pick a fresh key per request", () => {
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 2 }, () => 0);
    const forged = (i: number) => (name: string) =>
      ({ "x-forwarded-for": `10.0.0.${i}`, "cf-connecting-ip": `10.1.0.${i}` })[name];
    const answers = [1, 2, 3, 4].map((i) => limiter.take(limiter.keyOf(forged(i), "3.3.3.3")));
    expect(answers.map((a) => a.allowed)).toEqual([true, true, false, false]);
    expect(limiter.describeKey()).toBe("the connection's address (proxy headers not trusted)");
  });

  it("when trusted, keys by cf-connecting-ip, then the last x-forwarded-for hop, then the address", () => {
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 1, trustProxyHeaders: true });
    const headers = (h: Record<string, string>) => (name: string) => h[name];
    expect(
      limiter.keyOf(headers({ "cf-connecting-ip": "1.1.1.1", "x-forwarded-for": "2.2.2.2" }), "3"),
    ).toBe("1.1.1.1");
    // The first hops are whatever the client sent; the proxy in front appended the last.
    expect(limiter.keyOf(headers({ "x-forwarded-for": " 6.6.6.6 , 2.2.2.2 " }), "3")).toBe(
      "2.2.2.2",
    );
    expect(limiter.keyOf(headers({}), "3.3.3.3")).toBe("3.3.3.3");
    expect(limiter.describeKey()).toBe(
      "cf-connecting-ip, then x-forwarded-for (last hop), else the connection's address",
    );
    const socketOnly = new RateLimiter({
      ratePerSecond: 1,
      burst: 1,
      trustProxyHeaders: true,
      keyHeaders: [],
    });
    expect(socketOnly.keyOf(headers({ "cf-connecting-ip": "1.1.1.1" }), "3.3.3.3")).toBe("3.3.3.3");
  });

  it("forgets the least recently seen clients beyond its bound", () => {
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 1, maxClients: 2 }, () => 0);
    limiter.take("a");
    limiter.take("b");
    limiter.take("c"); // a is forgotten: it starts again with a full bucket
    expect(limiter.take("a").allowed).toBe(true);
    expect(limiter.take("c").allowed).toBe(false);
  });
});
