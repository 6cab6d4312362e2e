/**
 * Class 5, the validator: half-received messages hold at most limits.maxPendingChars characters together; the
 * oldest are evicted with a finding and their later chunks skipped (no cascade), never an abort. Plus the
 * `serve --rate-limit` / `--limit` flags that expose the server's limits.
 */
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { UsageError } from "../../cli/usage.js";
import { parseServeArgs } from "../../cli/serve.js";
import { startServer } from "../../server/server.js";
import { CaptureValidator } from "../../validator/capture.js";
import { validateInput } from "../../validator/run.js";
import type { Finding } from "../../validator/findings.js";
import { rawPeer } from "../server-helpers.js";
import { users } from "./dos-helpers.js";

/** One chunk of an insertone whose joined data is a valid payload (an item with a long string). */
function chunk(id: string, count: number, index: number, size: number): string {
  const data = `${index === 0 ? '{"collectionname":"entities","item":{"v":"' : ""}${"x".repeat(size)}${index === count - 1 ? '"}}' : ""}`;
  return JSON.stringify({ id, command: "insertone", count, index, data });
}

describe("validator: memory held by half-received messages", () => {
  it("evicts the oldest half-received messages at maxPendingChars, once each, and still completes messages that fit", () => {
    const findings: Finding[] = [];
    const v = new CaptureValidator({ onFinding: (f) => findings.push(f), correlate: false, limits: { maxPendingChars: 50_000 } });
    // 40 messages of 4 chunks x 10 000 characters: all but the last chunk first (1.2 M characters half-received).
    for (let m = 0; m < 40; m++) for (let i = 0; i < 3; i++) v.push(chunk(`m${m}`, 4, i, 10_000));
    const evicted = findings.filter((f) => f.code === "incomplete-message" && /held more than 50000 characters \(evicted/.test(f.message));
    expect(evicted.length).toBeGreaterThanOrEqual(38);
    // The last chunks of evicted messages are skipped, not reported again; the kept ones complete.
    const before = findings.length;
    for (let m = 0; m < 40; m++) v.push(chunk(`m${m}`, 4, 3, 10_000));
    expect(findings.slice(before).filter((f) => f.severity === "error")).toEqual([]);
    expect(v.stats.messages).toBe(40 - evicted.length);
    v.finish();
    expect(findings.filter((f) => /at the end of the input/.test(f.message))).toEqual([]);
  });

  it("a capture stream of many never-completed messages ends with findings (exit 1 in the CLI), not a crash", async () => {
    const lines: string[] = [];
    for (let m = 0; m < 200; m++) for (let i = 0; i < 9; i++) lines.push(chunk(`p${m}`, 10, i, 5_000));
    const findings: Finding[] = [];
    const summary = await validateInput(Readable.from([lines.join("\n")]), { file: "half.jsonl", mode: "capture", onFinding: (f) => findings.push(f), limits: { maxPendingChars: 100_000 } });
    expect(summary.frames).toBe(1800);
    expect(summary.errors).toBe(200);
    expect(findings.every((f) => f.code === "incomplete-message")).toBe(true);
  });
});

describe("serve --rate-limit and --limit", () => {
  it("parses the rate limit and limits, refusing bad values by name", () => {
    expect(parseServeArgs(["--rate-limit", "5"]).rateLimit).toEqual({ points: 5, durationMs: 1000 });
    expect(parseServeArgs(["--rate-limit=30/2000", "--limit", "maxConnections=50", "--limit=maxQueryWork=1000"])).toMatchObject({
      rateLimit: { points: 30, durationMs: 2000 },
      limits: { maxConnections: 50, maxQueryWork: 1000 },
    });
    expect(() => parseServeArgs(["--rate-limit", "fast"])).toThrow(UsageError);
    expect(() => parseServeArgs(["--rate-limit", "0"])).toThrow(/between 1 and/);
    expect(() => parseServeArgs(["--limit", "maxconnection=5"])).toThrow(/unknown limit "maxconnection" \(did you mean maxConnections/);
    expect(() => parseServeArgs(["--limit", "maxConnections=0"])).toThrow(/--limit maxConnections: .*positive/);
    expect(() => parseServeArgs(["--limit", "maxConnections"])).toThrow(/NAME=VALUE/);
  });

  it("the parsed rate limit is the server's: the message after the limit gets the rate-limit error", async () => {
    const args = parseServeArgs(["--rate-limit", "3/60000", "--limit", "maxConnections=5"]);
    const server = await startServer({ users, limits: args.limits, ...(args.rateLimit ? { rateLimit: args.rateLimit } : {}) });
    try {
      const p = await rawPeer(server.url);
      expect((await p.request("signin", { username: "alice", password: "pw-alice" })).command).toBe("signin");
      expect((await p.request("count", { collectionname: "entities", query: {} })).command).toBe("count");
      expect((await p.request("count", { collectionname: "entities", query: {} })).command).toBe("count");
      p.send("count", { collectionname: "entities", query: {} });
      const limited = await p.next((f) => f.command === "error" && /Rate limit exceeded consumedPoints: 4/.test(f.data ?? ""));
      expect(limited.replyto).toBeUndefined();
      p.close();
      const fresh = await rawPeer(server.url);
      expect((await fresh.request("signin", { username: "alice", password: "pw-alice" })).command).toBe("signin");
      fresh.close();
    } finally {
      await server.close();
    }
  });
});
