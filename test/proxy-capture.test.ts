/**
 * The capture format the proxy and `serve --record` write, as `openflow-spec validate` reads it: lines name their
 * connection (`conn`) and time (`ts`), so ids, reassembly and pairing are per connection; a `close` event
 * finishes its connection at once; a message that was not a JSON object is recorded as its raw text and checked
 * as a peer would read it; findings carry the connection, and the text report shows it.
 */
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { Finding } from "../validator/findings.js";
import { formatFinding } from "../validator/report/text.js";
import { validateInput } from "../validator/run.js";

const ts = "2026-11-30T20:00:00.000Z";
const line = (conn: string, dir: string, frame: unknown): string => JSON.stringify({ conn, ts, dir, frame });
const query = (id: string): unknown => ({ id, command: "query", data: JSON.stringify({ collectionname: "entities", query: {} }) });
const reply = (id: string, to: string): unknown => ({ id, replyto: to, command: "query", data: JSON.stringify({ result: [] }) });

async function check(lines: string[]): Promise<{ findings: Finding[]; frames: number; messages: number }> {
  const findings: Finding[] = [];
  const summary = await validateInput(Readable.from([lines.join("\n") + "\n"]), { file: "c.ndjson", mode: "capture", onFinding: (f) => findings.push(f) });
  return { findings, frames: summary.frames, messages: summary.messages };
}

describe("multi-connection captures", () => {
  it("pair requests and replies per connection, even with the same ids on interleaved connections", async () => {
    const result = await check([
      line("a", "c2s", query("1")),
      line("b", "c2s", query("1")),
      line("b", "s2c", reply("r1", "1")),
      line("a", "s2c", reply("r1", "1")),
    ]);
    expect(result.findings).toEqual([]);
    expect(result).toMatchObject({ frames: 4, messages: 4 });
  });

  it("report a reply on the wrong connection, naming the connection", async () => {
    const { findings } = await check([line("a", "c2s", query("1")), line("b", "s2c", reply("r1", "1"))]);
    expect(findings.map((f) => [f.code, f.connection, f.line])).toEqual([
      ["unknown-reply", "b", 2],
      ["unanswered-request", "a", 1],
    ]);
    expect(formatFinding(findings[0] as Finding)).toMatch(/^c\.ndjson:2: error unknown-reply: .*\[conn b, s2c, id r1, command query, at \/replyto\]$/);
  });

  it("finish a connection at its close event: a later reply with that id is unknown, and the unanswered request is reported then", async () => {
    const { findings } = await check([
      line("a", "c2s", query("1")),
      JSON.stringify({ conn: "a", ts, event: "close", by: "client", code: 1000 }),
      line("a", "s2c", reply("r1", "1")),
    ]);
    expect(findings.map((f) => f.code)).toEqual(["unanswered-request", "unknown-reply"]);
    expect(findings[0]?.message).toMatch(/by the close of connection a/);
  });

  it("check a message recorded as raw text as the peer read it, and refuse an unknown event", async () => {
    const { findings } = await check([
      line("a", "c2s", "{not json"),
      line("a", "c2s", "[1,2]"),
      JSON.stringify({ conn: "a", ts, event: "reopen" }),
      JSON.stringify({ conn: "a", ts, dir: "c2s", frame: 42 }),
    ]);
    expect(findings.map((f) => [f.code, f.line, f.connection])).toEqual([
      ["not-json", 1, "a"],
      ["frame-invalid", 2, "a"],
      ["envelope-invalid", 3, "a"],
      ["envelope-invalid", 4, "a"],
    ]);
  });

  it("keep reading lines without conn as one stream, as before", async () => {
    const { findings, messages } = await check([JSON.stringify({ dir: "c2s", frame: query("1") }), JSON.stringify({ dir: "s2c", frame: reply("r1", "1") })]);
    expect(findings).toEqual([]);
    expect(messages).toBe(2);
  });
});
