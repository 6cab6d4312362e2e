/**
 * Item 7, the validator's memory caps are the run's, not one connection id's: a capture that spreads half-received
 * messages, waiting requests or broken messages over many `conn` ids holds no more than one that uses a single
 * connection. A cap that is hit gives a finding, never an abort, and a well-behaved connection in the same capture
 * is still checked in full. Bounds are asserted on the pool's counters (characters, entries), not on times.
 */
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { ConnectionsValidator } from "../../validator/connections.js";
import type { Finding } from "../../validator/findings.js";
import { validateInput } from "../../validator/run.js";

/** One chunk of an insertone whose joined data is a valid payload. */
function chunk(conn: string, id: string, count: number, index: number, size: number): string {
  const data = `${index === 0 ? '{"collectionname":"entities","item":{"v":"' : ""}${"x".repeat(size)}${index === count - 1 ? '"}}' : ""}`;
  return JSON.stringify({ conn, dir: "c2s", frame: { id, command: "insertone", count, index, data } });
}

/** A well-behaved connection: one query and its reply. */
function goodConnection(conn: string): string[] {
  return [
    JSON.stringify({ conn, dir: "c2s", frame: { id: "q1", command: "query", data: JSON.stringify({ collectionname: "entities", query: {} }) } }),
    JSON.stringify({ conn, dir: "s2c", frame: { id: "r1", command: "query", replyto: "q1", data: JSON.stringify({ result: [] }) } }),
    JSON.stringify({ conn, event: "close" }),
  ];
}

describe("validator caps across connections", () => {
  it("the documented flat-memory example, spread over 200 connection ids: characters held stay under the run's cap; findings, no abort", async () => {
    const cap = 100_000;
    const size = 5_000;
    const lines: string[] = [];
    // 200 connections, each with one message of 10 chunks of which 9 arrive: 9 M characters if nothing were evicted.
    for (let m = 0; m < 200; m++) for (let i = 0; i < 9; i++) lines.push(chunk(`c${m}`, "m", 10, i, size));
    lines.push(...goodConnection("good"));
    const findings: Finding[] = [];
    const summary = await validateInput(Readable.from([lines.join("\n")]), { file: "spread.ndjson", mode: "capture", onFinding: (f) => findings.push(f), limits: { maxPendingChars: cap } });
    expect(summary.frames).toBe(200 * 9 + 2);
    expect(summary.errors).toBe(200);
    expect(findings.every((f) => f.code === "incomplete-message")).toBe(true);
    // Most were evicted by the shared cap while the capture was read, not merely found at the end.
    expect(findings.filter((f) => /held more than 100000 characters \(evicted/.test(f.message)).length).toBeGreaterThan(150);
    expect(findings.some((f) => f.connection === "good")).toBe(false);
  });

  it("the pool's peak is the cap plus one chunk, whatever the number of connections", () => {
    const cap = 50_000;
    for (const connections of [1, 10, 100]) {
      const v = new ConnectionsValidator({ correlate: false, limits: { maxPendingChars: cap }, onFinding: () => {} });
      for (let m = 0; m < 300; m++) for (let i = 0; i < 3; i++) v.push(chunk(`c${m % connections}`, `m${m}`, 4, i, 2_000));
      expect(v.pool.peakChars, `${connections} connections`).toBeLessThanOrEqual(cap + 2_000 + 4 + 64);
      v.finish();
      expect(v.pool.chars).toBe(0);
      expect(v.pool.partials.size).toBe(0);
    }
  });

  it("half-received messages are capped in number across connections (maxPendingMessages), each eviction a finding", () => {
    const findings: Finding[] = [];
    const v = new ConnectionsValidator({ correlate: false, limits: { maxPendingMessages: 100 }, onFinding: (f) => findings.push(f) });
    let most = 0;
    for (let c = 0; c < 50; c++) {
      for (let m = 0; m < 30; m++) {
        v.push(chunk(`c${c}`, `m${m}`, 3, 0, 10));
        most = Math.max(most, v.pool.partials.size);
      }
    }
    expect(most).toBe(100);
    const evicted = findings.filter((f) => /more than 100 messages were half-received \(evicted\)/.test(f.message));
    expect(evicted.length).toBe(50 * 30 - 100);
    for (const line of goodConnection("good")) v.push(line);
    v.finish();
    expect(findings.filter((f) => f.connection === "good")).toEqual([]);
    expect(findings.length).toBe(50 * 30);
  });

  it("waiting requests are capped across connections (maxWaitingRequests): the oldest is reported unanswered", () => {
    const findings: Finding[] = [];
    const v = new ConnectionsValidator({ limits: { maxWaitingRequests: 100 }, onFinding: (f) => findings.push(f) });
    let most = 0;
    for (let c = 0; c < 20; c++) {
      for (let r = 0; r < 20; r++) {
        v.push(JSON.stringify({ conn: `c${c}`, dir: "c2s", frame: { id: `q${r}`, command: "query", data: JSON.stringify({ collectionname: "entities", query: {} }) } }));
        most = Math.max(most, v.pool.waiting.size);
      }
    }
    expect(most).toBe(100);
    expect(findings.filter((f) => f.code === "unanswered-request" && /requests were waiting \(evicted\)/.test(f.message)).length).toBe(400 - 100);
    for (const line of goodConnection("good")) v.push(line);
    v.finish();
    expect(findings.filter((f) => f.connection === "good")).toEqual([]);
    expect(findings.filter((f) => f.code === "unanswered-request").length).toBe(400);
    expect(v.pool.waiting.size).toBe(0);
  });

  it("a closed connection gives back what it held", () => {
    const v = new ConnectionsValidator({ correlate: true, onFinding: () => {} });
    for (let c = 0; c < 10; c++) {
      v.push(chunk(`c${c}`, "m", 4, 0, 1_000));
      v.push(JSON.stringify({ conn: `c${c}`, dir: "c2s", frame: { id: "q", command: "query", data: "{}" } }));
    }
    expect(v.pool.partials.size).toBe(10);
    expect(v.pool.waiting.size).toBe(10);
    expect(v.pool.chars).toBeGreaterThan(10_000);
    for (let c = 0; c < 10; c++) v.push(JSON.stringify({ conn: `c${c}`, event: "close" }));
    expect(v.pool.partials.size).toBe(0);
    expect(v.pool.waiting.size).toBe(0);
    expect(v.pool.chars).toBe(0);
  });
});
