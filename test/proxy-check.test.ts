/**
 * Live checks through the proxy with raw clients: a malformed frame and an invalid payload are reported as they
 * happen (right code, connection, direction, command) while the server still receives exactly the bytes the
 * client sent; several connections at once stay independent (same frame ids, separate pairing, one closing
 * does not touch the others), in the live check and in the capture file.
 */
import { createReadStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeMessageText } from "../runtime/framing.js";
import { startProxy, type RunningProxy } from "../proxy/index.js";
import { startServer, type RunningServer } from "../server/index.js";
import { openCaptureFile } from "../validator/capture-file.js";
import type { Finding } from "../validator/findings.js";
import { validateInput } from "../validator/run.js";
import { rawPeer, waitFor } from "./server-helpers.js";

let dir = "";
let server: RunningServer;
const received: { text: string; conn: string }[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "openflow-proxy-check-"));
  server = await startServer({
    users: [{ username: "admin", password: "admin-pw", roles: ["admins"] }],
    onFrame: (direction, text, conn) => {
      if (direction === "in") received.push({ text, conn });
    },
  });
});

afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Resolves once `count` findings have arrived (bounded). */
function collector(): { findings: Finding[]; onFinding: (f: Finding) => void; atLeast: (n: number) => Promise<void> } {
  const findings: Finding[] = [];
  let wake: () => void = () => {};
  return {
    findings,
    onFinding: (f) => {
      findings.push(f);
      wake();
    },
    atLeast: (n) =>
      waitFor<void>((resolve) => {
        wake = () => findings.length >= n && resolve();
        wake();
      }, 5_000, `${n} findings`),
  };
}

describe("live checks", () => {
  it("reports a malformed frame and an invalid payload at once, and forwards both unchanged", async () => {
    const c = collector();
    const proxy = await startProxy({ upstream: server.url, onFinding: c.onFinding });
    try {
      const peer = await rawPeer(proxy.url);
      await peer.request("signin", { username: "admin", password: "admin-pw" });
      const malformed = '{"id":"m1","command":"query","data":';
      peer.sendText(malformed);
      const invalid = JSON.stringify({ id: "q1", command: "query", data: JSON.stringify({ collectionname: "entities", query: {}, top: "ten" }) });
      peer.sendText(invalid);
      await c.atLeast(2);
      const notJson = c.findings.find((f) => f.code === "not-json");
      expect(notJson).toMatchObject({ severity: "error", dir: "c2s", connection: "p1" });
      const payload = c.findings.find((f) => f.code === "payload-invalid");
      expect(payload).toMatchObject({ severity: "error", dir: "c2s", connection: "p1", id: "q1", command: "query", pointer: "/top" });
      // The server got both messages byte for byte (it answers the malformed one with its own error).
      await peer.next((f) => f.replyto === "q1");
      const texts = received.map((r) => r.text);
      expect(texts).toContain(malformed);
      expect(texts).toContain(invalid);
      peer.close();
      await peer.closed;
    } finally {
      await proxy.close();
    }
    // Nothing else the client sent was wrong. The local server answers the unreadable frame as both real servers do,
    // with an error frame that has no id: a documented variant of the frame schema (frame.json $defs/idlessError).
    expect(c.findings.filter((f) => f.dir === "c2s").map((f) => f.code).sort()).toEqual(["not-json", "payload-invalid"]);
    expect(c.findings.filter((f) => f.dir === "s2c")).toEqual([]);
  });

  it("reports a request left unanswered when its connection closes", async () => {
    const c = collector();
    const proxy = await startProxy({ upstream: server.url, onFinding: c.onFinding });
    try {
      const peer = await rawPeer(proxy.url);
      // Half of a chunked request: the server never sees the whole message, so nobody answers it.
      const [first] = encodeMessageText({ id: "half", command: "query", data: JSON.stringify({ collectionname: "entities", query: {} }) }, 10);
      peer.sendText(first as string);
      peer.close();
      await peer.closed;
      await c.atLeast(1);
      expect(c.findings[0]).toMatchObject({ code: "incomplete-message", connection: "p1", id: "half", dir: "c2s" });
      expect(c.findings[0]?.message).toMatch(/close of connection p1/);
    } finally {
      await proxy.close();
    }
  });
});

describe("concurrent connections", () => {
  it("are independent: the same frame ids on five connections pair separately, one closing leaves the others", async () => {
    const c = collector();
    const file = join(dir, "concurrent.ndjson");
    const capture = await openCaptureFile(file);
    const proxy = await startProxy({ upstream: server.url, onFinding: c.onFinding, capture });
    const peers = await Promise.all(Array.from({ length: 5 }, () => rawPeer(proxy.url)));
    try {
      // Every peer uses the same ids: only a per-connection check keeps them apart.
      const send = (peer: (typeof peers)[number], id: string, command: string, payload: unknown): Promise<unknown> => {
        const reply = peer.next((f) => f.replyto === id);
        peer.send(command, payload, 25_000, id);
        return reply;
      };
      await Promise.all(peers.map((p) => send(p, "1", "signin", { username: "admin", password: "admin-pw" })));
      await Promise.all(peers.map((p, i) => send(p, "2", "insertone", { collectionname: "concurrent", item: { n: i } })));
      // One connection goes away with its own code; the others go on working.
      const [gone, ...rest] = peers as [(typeof peers)[number], ...typeof peers];
      gone.close();
      await gone.closed;
      const counts = await Promise.all(
        rest.map(async (p) => {
          const reply = p.next((f) => f.replyto === "3");
          p.send("count", { collectionname: "concurrent", query: {} }, 25_000, "3");
          return JSON.parse(((await reply) as { data: string }).data).result;
        }),
      );
      expect(counts).toEqual([5, 5, 5, 5]);
      expect(proxy.connections.size).toBe(4);
    } finally {
      for (const p of peers) p.close();
      await Promise.all(peers.map((p) => p.closed));
      await proxy.close();
      await capture.close();
    }
    expect(c.findings).toEqual([]);
    expect(proxy.checkStats).toMatchObject({ connections: 5, errors: 0, warnings: 0 });
    const findings: Finding[] = [];
    const summary = await validateInput(createReadStream(file), { file, mode: "capture", onFinding: (f) => findings.push(f) });
    expect(findings).toEqual([]);
    expect(summary.messages).toBe(5 * 4 + 4 * 2);
    const conns = new Set(readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l).conn));
    expect(conns.size).toBe(5);
  });
});
