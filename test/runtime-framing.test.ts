import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OpenFlowError } from "../runtime/errors.js";
import { chunkString, encodeMessage, encodeMessageText, parseFrame, Reassembler, reassemblyFault, type WireFrame } from "../runtime/framing.js";

/** Any UTF-16 string: lone surrogates, pairs, line separators, ASCII. */
const anyUtf16 = fc.array(
  fc.oneof(
    fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    fc.constantFrom("\u2028", "\u2029", "\n", "\r", "\ud83d\ude00", "\ud800", "\udfff", '"', "\\"),
  ),
  { maxLength: 400 },
).map((parts) => parts.join(""));

function shuffle<T>(items: T[], seed: number[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = (seed[i % seed.length] ?? 0) % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe("chunking and reassembly (properties)", () => {
  it("chunk -> wire text -> parse -> reassemble in any order returns the exact string", () => {
    fc.assert(
      fc.property(anyUtf16, fc.integer({ min: 1, max: 64 }), fc.array(fc.nat(), { minLength: 1, maxLength: 20 }), (text, size, seed) => {
        const texts = encodeMessageText({ id: "m1", replyto: "r1", command: "query", data: text }, size);
        const reassembler = new Reassembler();
        let joined: string | null | undefined;
        let completions = 0;
        for (const wire of shuffle(texts, seed)) {
          const result = reassembler.push(parseFrame(wire), 0);
          if (result.done) {
            completions += 1;
            joined = result.message.data;
            expect(result.message.replyto).toBe("r1");
          }
        }
        expect(completions).toBe(1);
        expect(joined ?? "").toBe(text);
        expect(reassembler.pending).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it("never splits a surrogate pair and respects the size (a lone pair may exceed size 1)", () => {
    fc.assert(
      fc.property(anyUtf16, fc.integer({ min: 1, max: 50 }), (text, size) => {
        const pieces = chunkString(text, size);
        expect(pieces.join("")).toBe(text);
        let offset = 0;
        for (const piece of pieces) {
          expect(piece.length).toBeLessThanOrEqual(Math.max(size, 2));
          offset += piece.length;
          const last = text.charCodeAt(offset - 1);
          const next = text.charCodeAt(offset);
          const splitsPair = last >= 0xd800 && last <= 0xdbff && next >= 0xdc00 && next <= 0xdfff;
          expect(splitsPair).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("fast text encoding equals JSON.stringify of the frames", () => {
    fc.assert(
      fc.property(anyUtf16, fc.integer({ min: 1, max: 30 }), fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }), (text, size, priority) => {
        const message = { id: "a\"b", command: "que\u2028ry", data: text, ...(priority === undefined ? {} : { priority }) };
        expect(encodeMessageText(message, size)).toEqual(encodeMessage(message, size).map((f) => JSON.stringify(f)));
      }),
      { numRuns: 200 },
    );
  });
});

describe("framing edge cases", () => {
  it("keeps U+2028/U+2029 that the official client drops (Q3)", () => {
    const data = JSON.stringify({ s: "a\u2028b\u2029c" });
    const [text] = encodeMessageText({ id: "x", command: "query", data }, 25_000);
    const frame = parseFrame(text as string);
    expect(JSON.parse(frame.data as string)).toEqual({ s: "a\u2028b\u2029c" });
  });

  it("an empty payload gives one frame; ping carries no data", () => {
    expect(encodeMessage({ id: "p", command: "ping" }, 10)).toEqual([{ id: "p", command: "ping", count: 1, index: 0 }]);
    expect(encodeMessage({ id: "p", command: "x", data: "" }, 10)).toEqual([{ id: "p", command: "x", data: "", count: 1, index: 0 }]);
  });

  it("rejects frames with a clear protocol error naming the field", () => {
    const cases: [string, string][] = [
      ["not json", "not JSON"],
      ["[1]", "JSON object"],
      ['{"id":"a"}', "/command"],
      ['{"id":"a","command":"q","count":"1"}', "/count"],
      ['{"id":"a","command":"q","data":{}}', "/data"],
      ['{"id":5,"command":"q"}', "/id"],
    ];
    for (const [text, want] of cases) {
      let error: unknown;
      try {
        parseFrame(text);
      } catch (err) {
        error = err;
      }
      expect(OpenFlowError.is(error, "protocol"), text).toBe(true);
      expect((error as Error).message).toContain(want);
    }
  });

  it("duplicate, inconsistent and oversized chunks fail only their own message", () => {
    const r = new Reassembler({ maxMessageChars: 10, maxChunks: 4 });
    const f = (id: string, index: number, count: number, data: string, command = "q"): WireFrame => ({ id, command, index, count, data });
    expect(r.push(f("good", 0, 2, "ab"), 0).done).toBe(false);
    expect(r.push(f("dup", 0, 2, "x"), 0).done).toBe(false);
    expect(() => r.push(f("dup", 0, 2, "x"), 0)).toThrow(/duplicate chunk 0/);
    expect(r.push(f("mix", 0, 2, "x"), 0).done).toBe(false);
    expect(() => r.push(f("mix", 1, 3, "x"), 0)).toThrow(/disagrees/);
    expect(() => r.push(f("big", 0, 2, "x".repeat(11)), 0)).toThrow(/exceeds the limit of 10/);
    expect(() => r.push(f("many", 0, 5, "x"), 0)).toThrow(/exceeds the limit of 4 chunks/);
    expect(() => r.push(f("idx", 3, 2, "x"), 0)).toThrow(/outside 0\.\.1/);
    const done = r.push(f("good", 1, 2, "cd"), 0);
    expect(done).toEqual({ done: true, message: { id: "good", command: "q", data: "abcd" } });
  });

  it("empty chunks count toward completion and the chunk limit", () => {
    const r = new Reassembler({ maxChunks: 3 });
    expect(r.push({ id: "e", command: "q", index: 0, count: 3, data: "" }, 0).done).toBe(false);
    expect(r.push({ id: "e", command: "q", index: 2, count: 3 }, 0).done).toBe(false);
    const result = r.push({ id: "e", command: "q", index: 1, count: 3, data: "z" }, 0);
    expect(result.done && result.message.data).toBe("z");
  });

  it("sweep drops half-received messages after the partial timeout, naming the request they answer", () => {
    const r = new Reassembler({ partialTimeoutMs: 1000 });
    r.push({ id: "m", replyto: "req1", command: "query", index: 0, count: 2, data: "a" }, 0);
    expect(r.sweep(999)).toEqual([]);
    const [error] = r.sweep(1000);
    expect(error?.code).toBe("timeout");
    expect(error?.details).toEqual({ replyto: "req1" });
    expect(r.pending).toBe(0);
  });

  it("reassembles a message of 20 000 chunks arriving in reverse order", () => {
    const data = "x".repeat(20_000 * 50);
    const r = new Reassembler();
    const texts = encodeMessageText({ id: "big", command: "q", data }, 50).reverse();
    let out: string | null | undefined;
    for (const t of texts) {
      const res = r.push(parseFrame(t), 0);
      if (res.done) out = res.message.data;
    }
    expect(out).toBe(data);
  });
});

describe("reassembler faults and drop", () => {
  const chunk = (index: number, data: string, count = 3): WireFrame => ({ id: "m1", command: "query", data, count, index });

  it("names the fault in details.reason so callers need not read message text", () => {
    const cases: [string, (r: Reassembler) => void][] = [
      ["chunk-duplicate", (r) => { r.push(chunk(0, "a"), 0); r.push(chunk(0, "a"), 0); }],
      ["chunk-mismatch", (r) => { r.push(chunk(0, "a"), 0); r.push(chunk(1, "b", 4), 0); }],
      ["index-out-of-range", (r) => { r.push(chunk(3, "a"), 0); }],
      ["count-invalid", (r) => { r.push({ id: "m1", command: "query", count: 0, index: 0 }, 0); }],
      ["too-many-chunks", (r) => { r.push(chunk(0, "a", 11), 0); }],
      ["too-large", (r) => { r.push(chunk(0, "abcdef"), 0); r.push(chunk(1, "ghijkl"), 0); }],
    ];
    for (const [reason, run] of cases) {
      const reassembler = new Reassembler({ maxChunks: 10, maxMessageChars: 10 });
      let caught: unknown;
      try {
        run(reassembler);
      } catch (err) {
        caught = err;
      }
      expect(OpenFlowError.is(caught, "protocol"), reason).toBe(true);
      expect(reassemblyFault(caught), reason).toBe(reason);
    }
    expect(reassemblyFault(new OpenFlowError("protocol", "other"))).toBeUndefined();
  });

  it("drop forgets one half-received message and leaves the others", () => {
    const reassembler = new Reassembler();
    reassembler.push(chunk(0, "a"), 0);
    reassembler.push({ ...chunk(0, "x"), id: "m2" }, 0);
    expect(reassembler.pending).toBe(2);
    expect(reassembler.drop("m1")).toBe(true);
    expect(reassembler.drop("m1")).toBe(false);
    expect(reassembler.pending).toBe(1);
    // m1 starts afresh: its old chunk 0 is gone, so a new chunk 0 is not a duplicate.
    expect(reassembler.push(chunk(0, "A"), 0)).toEqual({ done: false });
    reassembler.push(chunk(1, "B"), 0);
    const done = reassembler.push(chunk(2, "C"), 0);
    expect(done).toMatchObject({ done: true, message: { id: "m1", data: "ABC" } });
  });
});
