/**
 * Rate limiting against the project server with server-latest's limiter on (30 points per second, answered
 * with an uncorrelated "Rate limit exceeded" error frame): a burst larger than the limit still completes,
 * because the client retries the rejected requests and starts pacing the connection (default policy).
 */
import { expect, it } from "vitest";
import { connect } from "../runtime/index.js";
import { startServer } from "../server/index.js";

it("a burst of 60 requests over a 30/s limit completes via retry and pacing", async () => {
  const server = await startServer({ users: [{ username: "rl", password: "rl-password", roles: ["admins"] }], rateLimit: { points: 30, durationMs: 1000 } });
  const warnings: string[] = [];
  const client = await connect(server.url, {
    username: "rl",
    password: "rl-password",
    logger: { debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} },
  });
  try {
    const results = await Promise.allSettled(Array.from({ length: 60 }, (_, i) => client.count({ collectionname: "entities", query: { i } })));
    const failed = results.filter((r) => r.status === "rejected").map((r) => String((r as PromiseRejectedResult).reason?.code));
    expect(failed).toEqual([]);
    expect(warnings.some((w) => w.includes("pacing this connection"))).toBe(true);
  } finally {
    client.close();
    await server.close();
  }
}, 20_000);
