/**
 * Recording and checking off the forwarding path: the worker thread (writing the capture file itself, or sending
 * lines back to a sink) and the inline mode produce the same capture lines and the same findings for the same
 * traffic, and the bytes waiting for the worker are released from the memory budget once it has answered.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { encodeMessageText } from "../runtime/framing.js";
import { startProxy, type ProxyOptions } from "../proxy/index.js";
import type { Finding } from "../validator/findings.js";

const dir = mkdtempSync(join(tmpdir(), "openflow-proxy-worker-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const frames = [
  JSON.stringify({ id: "1", command: "signin", data: JSON.stringify({ username: "a", password: "pw-worker-secret" }) }),
  JSON.stringify({ id: "2", command: "query", data: JSON.stringify({ collectionname: "entities", query: {}, top: "ten" }) }),
  ...encodeMessageText({ id: "3", command: "insertone", data: JSON.stringify({ collectionname: "entities", item: { v: "x".repeat(500) } }) }, 100),
  "not json at all",
];

async function run(extra: Partial<ProxyOptions>): Promise<{ lines: string[]; findings: string[]; held: number }> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  let got = 0;
  wss.on("connection", (ws) => ws.on("message", () => void got++));
  const findings: Finding[] = [];
  const sinkLines: string[] = [];
  const proxy = await startProxy({
    upstream: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`,
    onFinding: (f) => findings.push(f),
    ...(extra.captureFile ? {} : { capture: { write: (l: string) => sinkLines.push(l) } }),
    ...extra,
  });
  const client = new WebSocket(proxy.url);
  await new Promise<void>((resolve, reject) => {
    client.once("open", () => resolve());
    client.once("error", reject);
  });
  for (const f of frames) client.send(f);
  for (let i = 0; i < 500 && got < frames.length; i++) await new Promise((r) => setTimeout(r, 10));
  client.close();
  for (let i = 0; i < 500 && proxy.connections.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
  await proxy.close();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
  const lines = extra.captureFile ? readFileSync(extra.captureFile, "utf8").split("\n").filter(Boolean) : sinkLines.map((l) => l.trimEnd());
  // Timestamps aside, the lines are compared as written.
  return { lines: lines.map((l) => l.replace(/"ts":"[^"]+"/, '"ts":""')), findings: findings.map((f) => `${f.code} ${f.id ?? ""}`).sort(), held: proxy.memory.held };
}

describe("the checking worker", () => {
  it("writes the same capture and finds the same as the inline mode, with no secret and nothing left held", async () => {
    const inline = await run({ checkInWorker: false });
    const sink = await run({});
    const file = await run({ captureFile: join(dir, "worker.ndjson") });
    expect(inline.lines.length).toBe(frames.length + 2);
    expect(inline.findings.length).toBeGreaterThan(0);
    expect(sink).toEqual(inline);
    expect(file).toEqual(inline);
    expect(inline.lines.join("\n")).not.toContain("pw-worker-secret");
    expect(inline.held).toBe(0);
  });

  it("refuses captureFile without the worker, by name", async () => {
    await expect(startProxy({ upstream: "ws://127.0.0.1:1/", captureFile: join(dir, "x.ndjson"), checkInWorker: false })).rejects.toThrow(/captureFile/);
  });
});
