/**
 * The validator library fed directly: CaptureValidator state machine (reassembly, pairing, limits and eviction),
 * the single-frame and payload functions, and the line splitter.
 */
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { encodeMessage, type WireFrame } from "../runtime/framing.js";
import { CaptureValidator, type CaptureOptions } from "../validator/capture.js";
import { catalogFrom } from "../validator/catalog.js";
import { validateFrame, validateFrameText } from "../validator/frame.js";
import { validateCommandPayload } from "../validator/payload.js";
import { firstInvalidUtf8, forEachLine, InputEncodingError } from "../validator/lines.js";
import type { Direction, Finding } from "../validator/findings.js";

function example(command: string, kind: "request" | "reply"): unknown {
  const schema = JSON.parse(readFileSync(`schemas/commands/${command}.json`, "utf8")) as { $defs: Record<string, { examples: unknown[] }> };
  return schema.$defs[kind]?.examples[0];
}

const queryRequest = { collectionname: "entities", query: '{"_type":"test"}', top: 10 };
const queryReply = { collectionname: "entities", result: [] };

function frames(id: string, command: string, payload: unknown, options: { replyto?: string; chunk?: number } = {}): WireFrame[] {
  return encodeMessage({ id, command, replyto: options.replyto, data: payload === undefined ? undefined : JSON.stringify(payload) }, options.chunk ?? 25_000);
}

function check(steps: [Direction | undefined, WireFrame | string][], options: CaptureOptions = {}): Finding[] {
  const v = new CaptureValidator({ file: "t", ...options });
  steps.forEach(([dir, frame], i) => v.push(frame, { dir, line: i + 1 }));
  return v.finish();
}

const codes = (findings: Finding[]): string[] => findings.map((f) => f.code);

describe("CaptureValidator", () => {
  it("reassembles chunks in any order and validates the joined payload", () => {
    const chunks = frames("a", "query", queryRequest, { chunk: 7 });
    expect(chunks.length).toBeGreaterThan(3);
    const shuffled = [...chunks].reverse();
    const findings = check([...shuffled.map((f) => ["c2s", f] as [Direction, WireFrame]), ...frames("b", "query", queryReply, { replyto: "a" }).map((f) => ["s2c", f] as [Direction, WireFrame])]);
    expect(findings).toEqual([]);
  });

  it("rejoins a surrogate pair split across chunks by a JS sender (quirk Q4)", () => {
    const data = JSON.stringify({ ...queryRequest, query: { note: "robot 😀 done" } });
    const cut = data.indexOf("😀") + 1; // between the two halves of the pair
    const lines = [data.slice(0, cut), data.slice(cut)].map((piece, index) => JSON.stringify({ dir: "c2s", frame: { id: "s", command: "query", data: piece, count: 2, index } }));
    expect(lines[0]).toContain("\\ud83d");
    const reply = JSON.stringify({ dir: "s2c", frame: frames("r", "query", queryReply, { replyto: "s" })[0] });
    expect(check([...lines, reply].map((line) => [undefined, line] as [undefined, string]))).toEqual([]);
  });

  it("keeps directions apart: the same id in both directions is two messages", () => {
    const [c0, c1] = frames("same", "query", queryRequest, { chunk: 40 });
    const [s0, s1] = frames("same", "query", queryRequest, { chunk: 40 });
    const findings = check([
      ["c2s", c0 as WireFrame],
      ["s2c", s0 as WireFrame],
      ["c2s", c1 as WireFrame],
      ["s2c", s1 as WireFrame],
    ]);
    // Both complete; the c2s one is a request nobody answered, the s2c one a server-started query nobody answered.
    expect(codes(findings)).toEqual(["unanswered-request", "unacknowledged-push"]);
  });

  it("checks an error reply against the error schema, plain text included", () => {
    const request = frames("r", "query", queryRequest)[0] as WireFrame;
    expect(check([["c2s", request], ["s2c", { id: "e", replyto: "r", command: "error", data: "Sorry, I'm bussy", count: 1, index: 0 }]])).toEqual([]);
    expect(check([["c2s", request], ["s2c", { id: "e", replyto: "r", command: "error", data: JSON.stringify({ message: 42 }), count: 1, index: 0 }]]).map((f) => [f.code, f.pointer])).toContainEqual([
      "payload-invalid",
      "/message",
    ]);
  });

  it("does not expect replies for commands whose schema says replyExpected false", () => {
    const refresh = frames("s", "refreshtoken", example("refreshtoken", "request"))[0] as WireFrame;
    const ping = frames("p", "ping", undefined)[0] as WireFrame;
    expect(check([["s2c", refresh], ["c2s", ping]])).toEqual([]);
  });

  it("warns when a request id is reused while still unanswered (OpenRPA resend)", () => {
    const request = frames("r", "query", queryRequest)[0] as WireFrame;
    const reply = frames("x", "query", queryReply, { replyto: "r" })[0] as WireFrame;
    expect(check([["c2s", request], ["c2s", request], ["s2c", reply]]).map((f) => [f.code, f.severity, f.line])).toEqual([["id-reused", "warning", 2]]);
  });

  it("evicts the oldest half-received message beyond maxPendingMessages", () => {
    const a = frames("a", "query", queryRequest, { chunk: 20 });
    const b = frames("b", "query", queryRequest, { chunk: 20 });
    const c = frames("c", "query", queryRequest, { chunk: 20 });
    const findings = check(
      [
        ["c2s", a[0] as WireFrame],
        ["c2s", b[0] as WireFrame],
        ["c2s", c[0] as WireFrame],
      ],
      { limits: { maxPendingMessages: 2 } },
    );
    expect(findings.map((f) => [f.code, f.id, f.message.includes("evicted")])).toEqual([
      ["incomplete-message", "a", true],
      ["incomplete-message", "b", false],
      ["incomplete-message", "c", false],
    ]);
  });

  it("evicts a half-received message after pendingWindowFrames frames", () => {
    const a = frames("a", "query", queryRequest, { chunk: 20 });
    const pings = Array.from({ length: 5000 }, (_, i) => ["c2s", frames(`p${i}`, "ping", undefined)[0] as WireFrame] as [Direction, WireFrame]);
    const findings = check([["c2s", a[0] as WireFrame], ...pings, ["c2s", a[1] as WireFrame]], { limits: { pendingWindowFrames: 1000 } });
    // Evicted at the first sweep after the window; the late chunk then starts a new message that never completes.
    expect(findings[0]).toMatchObject({ code: "incomplete-message", id: "a", line: 1 });
    expect(findings[0]?.message).toContain("after 1000 frames (evicted)");
  });

  it("reports a message over maxMessageChars once", () => {
    const chunks = frames("big", "query", { ...queryRequest, pad: "x".repeat(500) }, { chunk: 100 });
    const findings = check(chunks.map((f) => ["c2s", f] as [Direction, WireFrame]), { limits: { maxMessageChars: 250 } });
    expect(codes(findings)).toEqual(["message-too-large"]);
    expect(findings[0]?.line).toBe(3);
  });

  it("accepts frames as text or objects, envelopes or bare", () => {
    const request = frames("r", "query", queryRequest)[0] as WireFrame;
    const reply = frames("x", "query", queryReply, { replyto: "r" })[0] as WireFrame;
    const v = new CaptureValidator();
    v.push(JSON.stringify({ dir: "c2s", frame: request }), { line: 1 });
    v.push(reply, { dir: "s2c", line: 2 });
    expect(v.finish()).toEqual([]);
    expect(v.stats).toEqual({ frames: 2, messages: 2, errors: 0, warnings: 0 });
    expect(() => v.push(request)).toThrow(/after finish/);
  });

  it("streams findings to onFinding", () => {
    const seen: string[] = [];
    const v = new CaptureValidator({ onFinding: (f) => seen.push(f.code) });
    v.push("nope", { line: 1 });
    expect(seen).toEqual(["not-json"]);
    v.push(frames("r", "query", queryRequest)[0] as WireFrame, { dir: "c2s", line: 2 });
    v.finish();
    expect(seen).toEqual(["not-json", "unanswered-request"]);
    expect(v.findings).toEqual([]);
    expect(v.ok()).toBe(false);
  });

  it("takes command metadata from the catalog it is given", () => {
    const catalog = catalogFrom([{ name: "query", direction: "c2s", replyCommand: "query", replyExpected: false, deprecated: false, aliases: [], replyType: "QueryReply" }]);
    expect(check([["c2s", frames("r", "query", queryRequest)[0] as WireFrame]], { catalog })).toEqual([]);
  });
});

describe("single frames and payloads", () => {
  it("validateFrameText reports not-json, structure and schema problems", () => {
    expect(codes(validateFrameText("{"))).toEqual(["not-json"]);
    expect(validateFrameText(JSON.stringify({ id: "a", command: "ping", count: "1" })).map((f) => [f.code, f.pointer])).toEqual([["count-string", "/count"]]);
    expect(validateFrame({ id: "a", command: "ping", traceId: 5 }).map((f) => [f.code, f.pointer])).toEqual([["frame-invalid", "/traceId"]]);
    expect(validateFrame({ id: "a", command: "" }).map((f) => [f.code, f.pointer])).toEqual([["frame-invalid", "/command"]]);
    expect(validateFrame([1]).map((f) => [f.code, f.pointer])).toEqual([["frame-invalid", ""]]);
    expect(validateFrame({ id: "a", command: "query", data: "{}", count: 1, index: 0 })).toEqual([]);
  });

  it("accepts the servers' id-less error frame by the schema; any other id-less frame is one finding naming id", () => {
    const idless = { priority: 1, command: "error", data: "Unexpected token o in JSON at position 1" };
    expect(validateFrame(idless)).toEqual([]);
    expect(validateFrame({ command: "query", data: "{}" }).map((f) => [f.code, f.message])).toEqual([["frame-invalid", "frame must have required property 'id'"]]);
    const withReplyto = validateFrame({ ...idless, replyto: "r" });
    expect(withReplyto.map((f) => f.pointer)).toEqual(["/replyto"]);
    expect(withReplyto[0]?.message).toMatch(/idlessError/);
    // In a capture: two of them in a row are two whole messages, not chunks of one.
    expect(check([["c2s", { id: "q", command: "query", data: JSON.stringify(queryRequest) }], ["s2c", JSON.stringify(idless)], ["s2c", JSON.stringify(idless)], ["s2c", { id: "r", replyto: "q", command: "query", data: JSON.stringify(queryReply) }]])).toEqual([]);
  });

  it("validateCommandPayload uses the request or reply schema", () => {
    expect(validateCommandPayload("query", "request", queryRequest)).toEqual([]);
    expect(validateCommandPayload("QUERY", "reply", { result: "no" }).map((f) => [f.code, f.pointer])).toEqual([["payload-invalid", "/result"]]);
    expect(codes(validateCommandPayload("nosuch", "request", {}))).toEqual(["unknown-command"]);
  });

  it("folds the branch mismatches of a failed oneOf into one finding", () => {
    const found = validateCommandPayload("query", "request", { collectionname: "entities", query: 5 });
    expect(found.map((f) => [f.code, f.pointer])).toEqual([["payload-invalid", "/query"]]);
    expect(found[0]?.message).toContain("oneOf (must be object; must be string)");
  });
});

describe("forEachLine", () => {
  async function lines(chunks: string[], max?: number): Promise<[string, number][]> {
    const out: [string, number][] = [];
    await forEachLine(Readable.from(chunks.map((c) => Buffer.from(c))), { line: (t, n) => out.push([t, n]), tooLong: (n, len) => out.push([`TOO LONG ${len}`, n]) }, max);
    return out;
  }

  it("splits across chunk boundaries, strips CR, keeps a last line without newline", async () => {
    expect(await lines(["ab", "c\r\nd", "e\n\nf"])).toEqual([
      ["abc", 1],
      ["de", 2],
      ["", 3],
      ["f", 4],
    ]);
  });

  it("skips a line over the limit and keeps counting lines", async () => {
    const out = await lines(["ok\n", "x".repeat(10), "x".repeat(10), "x\nafter\n"], 15);
    expect(out[0]).toEqual(["ok", 1]);
    expect(out[1]?.[1]).toBe(2);
    expect(out[1]?.[0]).toMatch(/^TOO LONG/);
    expect(out[2]).toEqual(["after", 3]);
  });

  it("drops a byte order mark at the start", async () => {
    expect(await lines(["\ufeff{}\n{}"])).toEqual([
      ["{}", 1],
      ["{}", 2],
    ]);
  });

  it("rejects bytes that are not UTF-8 with the line and byte of the first bad one, after the lines before it", async () => {
    const out: string[] = [];
    const read = (chunks: Buffer[]): Promise<void> => forEachLine(Readable.from(chunks), { line: (t) => out.push(t) });
    // The bad byte is in the second read: line and byte count across reads.
    await expect(read([Buffer.from("ok\n"), Buffer.from([0x61, 0x0a, 0x62, 0xc0, 0x80, 0x0a])])).rejects.toThrow(
      new InputEncodingError(3, 7, "invalid byte 0xc0"),
    );
    expect(out).toEqual(["ok"]);
    // A lone surrogate encoded as UTF-8 (CESU) is not UTF-8 either.
    await expect(read([Buffer.from([0x7b, 0xed, 0xa0, 0x80, 0x7d])])).rejects.toThrow(/malformed multi-byte character starting with byte 0xed at line 1 \(byte 2\)/);
    // A character cut off at the end of the input.
    await expect(read([Buffer.from("{}\n"), Buffer.from([0xe2, 0x82])])).rejects.toThrow(/truncated multi-byte character at line 2 \(byte 4\)/);
    // A character left open by one read and broken by the next: located at its first byte.
    await expect(read([Buffer.from([0x61, 0xe2]), Buffer.from([0x41, 0x0a])])).rejects.toThrow(/malformed multi-byte character starting with byte 0xe2 at line 1 \(byte 2\)/);
    // While a too-long line is being skipped, the bad byte is still on that line.
    await expect(
      forEachLine(Readable.from([Buffer.from("x".repeat(20)), Buffer.from([0x78, 0xff, 0x0a])]), { line: (t) => out.push(t), tooLong: () => {} }, 10),
    ).rejects.toThrow(/invalid byte 0xff at line 1 \(byte 22\)/);
  });

  it("firstInvalidUtf8 agrees with a fatal TextDecoder", () => {
    const decoder = new TextDecoder("utf-8", { fatal: true });
    const valid = (b: Uint8Array): boolean => {
      try {
        decoder.decode(b);
        return true;
      } catch {
        return false;
      }
    };
    let state = 12345;
    const next = (): number => (state = (state * 1103515245 + 12345) % 2147483648) % 256;
    for (let n = 0; n < 2000; n++) {
      const bytes = Uint8Array.from({ length: 1 + (n % 9) }, () => next());
      // A valid prefix of an unfinished sequence counts as valid for firstInvalidUtf8 (the next read may finish it).
      const found = firstInvalidUtf8(bytes);
      if (valid(bytes)) expect(found).toBe(-1);
      else if (found >= 0) expect(valid(bytes.subarray(0, found))).toBe(true);
    }
  });

  it("keeps multi-byte characters split across reads intact", async () => {
    const bytes = Buffer.from("é€😀\n");
    const out: string[] = [];
    await forEachLine(Readable.from([bytes.subarray(0, 1), bytes.subarray(1, 4), bytes.subarray(4)]), { line: (t) => out.push(t) });
    expect(out).toEqual(["é€😀"]);
  });
});
