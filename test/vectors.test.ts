/**
 * The TypeScript runtime against the language-neutral conformance vectors (spec/vectors/*.json and the generated
 * generated/vectors/examples.json; format in spec/vectors/README.md). The C# runtime runs the same files
 * (test/csharp.test.ts), so both implementations are held to one set of cases.
 */
import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { chunkString, encodeMessage, parseFrame, Reassembler, type WireFrame, type WireMessage } from "../runtime/framing.js";
import { Correlator } from "../runtime/correlation.js";
import { ManualClock } from "../runtime/clock.js";
import { OpenFlowError, errorCodes } from "../runtime/errors.js";
import { chunkSizeFrom } from "../runtime/session.js";
import { validatePayload } from "../runtime/validate.js";

const dir = new URL("../spec/vectors/", import.meta.url);
const load = <T>(name: string): T => JSON.parse(readFileSync(new URL(name, dir), "utf8")) as T;

/** Absent and null members are the same in message and frame comparisons (vectors README). */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => [k, withoutNulls(v)]));
  }
  return value;
}

function caught(fn: () => unknown): OpenFlowError {
  try {
    fn();
  } catch (e) {
    if (e instanceof OpenFlowError) return e;
    throw e;
  }
  throw new Error("expected an OpenFlowError, nothing was thrown");
}

describe("conformance vectors", () => {
  it("every vector file is documented in spec/vectors/README.md", () => {
    const readme = readFileSync(new URL("README.md", dir), "utf8");
    const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
    expect(files.length).toBeGreaterThanOrEqual(6);
    for (const f of files) expect(readme).toContain(f);
  });

  describe("chunking", () => {
    const { cases } = load<{ cases: { name: string; text: string; size: number; pieces: string[] }[] }>("chunking.json");
    it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
      expect(chunkString(c.text, c.size)).toEqual(c.pieces);
    });
  });

  describe("package size", () => {
    const { cases } = load<{ cases: { name: string; current: number; announced?: unknown; expect: number }[] }>("package-size.json");
    it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
      expect(chunkSizeFrom(c.announced, c.current)).toBe(c.expect);
    });
  });

  describe("framing", () => {
    const { cases } = load<{ cases: { name: string; chunkSize: number; message: WireMessage; frames: WireFrame[] }[] }>("framing.json");
    it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
      const frames = encodeMessage(c.message, c.chunkSize).map((f) => JSON.parse(JSON.stringify(f)) as unknown);
      expect(frames).toEqual(c.frames);
    });
  });

  describe("parse", () => {
    type Expect = { frame: Record<string, unknown> } | { error: { code: string; pointer: string } };
    const { cases } = load<{ cases: { name: string; text: string; expect: Expect }[] }>("parse.json");
    it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
      if ("frame" in c.expect) {
        const frame = parseFrame(c.text) as unknown as Record<string, unknown>;
        const picked = Object.fromEntries(["id", "replyto", "command", "data", "count", "index"].map((k) => [k, frame[k]]));
        expect(withoutNulls(picked)).toEqual(withoutNulls(c.expect.frame));
      } else {
        const error = caught(() => parseFrame(c.text));
        expect(error.code).toBe(c.expect.error.code);
        expect(error.pointer ?? "").toBe(c.expect.error.pointer);
      }
    });
  });

  describe("reassembly", () => {
    type Step = { frame: WireFrame; expect: "pending" | { message: WireMessage } | { error: { code: string; reason: string } } };
    const { cases } = load<{ cases: { name: string; limits?: Record<string, number>; steps: Step[] }[] }>("reassembly.json");
    it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
      const reassembler = new Reassembler(c.limits ?? {});
      c.steps.forEach((step) => {
        const frame = { ...step.frame, id: step.frame.id ?? "" };
        if (step.expect === "pending") {
          expect(reassembler.push(frame, 0)).toEqual({ done: false });
        } else if ("message" in step.expect) {
          const result = reassembler.push(frame, 0);
          expect(result.done).toBe(true);
          if (result.done) expect(withoutNulls(result.message)).toEqual(withoutNulls(step.expect.message));
        } else {
          const error = caught(() => reassembler.push(frame, 0));
          expect(error.code).toBe(step.expect.error.code);
          expect((error.details as { reason?: string }).reason).toBe(step.expect.error.reason);
        }
      });
    });
  });

  describe("correlation and both error styles", () => {
    type Expect = { settles: string | null; ok?: boolean; payload?: unknown; code?: string; serverMessage?: string };
    const { cases } = load<{ cases: { name: string; pending: { id: string; command: string }[]; replies: { message: WireMessage; expect: Expect }[] }[] }>("correlation.json");
    it.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
      const correlator = new Correlator(new ManualClock());
      const outcomes = new Map<string, { ok: boolean; value: unknown }>();
      const settled = new Map<string, Promise<void>>();
      for (const p of c.pending) {
        settled.set(p.id, correlator.track(p.id, p.command, { deadline: Number.POSITIVE_INFINITY, timeoutMs: Number.POSITIVE_INFINITY }).then(
          (value) => void outcomes.set(p.id, { ok: true, value }),
          (error: unknown) => void outcomes.set(p.id, { ok: false, value: error }),
        ));
      }
      for (const r of c.replies) {
        const before = new Set(c.pending.map((p) => p.id).filter((id) => correlator.has(id)));
        const matched = correlator.reply(r.message);
        const settledId = [...before].find((id) => !correlator.has(id)) ?? null;
        expect(matched).toBe(r.expect.settles !== null);
        expect(settledId).toBe(r.expect.settles);
        if (settledId === null) continue;
        await settled.get(settledId);
        const outcome = outcomes.get(settledId);
        expect(outcome?.ok).toBe(r.expect.ok);
        if (r.expect.ok) expect(outcome?.value).toEqual(r.expect.payload);
        else {
          const error = outcome?.value as OpenFlowError;
          expect(error).toBeInstanceOf(OpenFlowError);
          expect(error.code).toBe(r.expect.code);
          expect(error.serverMessage).toBe(r.expect.serverMessage);
        }
      }
    });
  });

  describe("every command's examples as request/reply pairs", () => {
    type Case = { name: string; command: string; requestType: string; request: unknown; replyCommand: string | null; reply: unknown; replyOutcome: "ok" | "error" | null };
    const { cases } = JSON.parse(readFileSync(new URL("../generated/vectors/examples.json", import.meta.url), "utf8")) as { cases: Case[] };

    it("covers every command file", () => {
      const commands = readdirSync(new URL("../schemas/commands/", import.meta.url)).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5));
      expect(new Set(cases.map((c) => c.command))).toEqual(new Set(commands));
    });

    it.each(cases.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
      // The request crosses the wire at a small package size and comes back whole.
      const data = JSON.stringify(c.request);
      const frames = encodeMessage({ id: "vreq", command: c.command, data }, 100);
      const reassembler = new Reassembler();
      let joined: WireMessage | undefined;
      for (const f of frames) {
        const result = reassembler.push(parseFrame(JSON.stringify(f)), 0);
        if (result.done) joined = result.message;
      }
      expect(JSON.parse(joined?.data ?? "null")).toEqual(c.request);
      expect(validatePayload(c.command, "request", c.request)).toEqual([]);
      if (c.replyCommand === null || c.replyOutcome === null) return;
      const correlator = new Correlator(new ManualClock());
      const pending = correlator.track("vreq", c.command, { deadline: Number.POSITIVE_INFINITY, timeoutMs: Number.POSITIVE_INFINITY });
      expect(correlator.reply({ id: "vrep", replyto: "vreq", command: c.replyCommand, data: JSON.stringify(c.reply) })).toBe(true);
      if (c.replyOutcome === "ok") expect(await pending).toEqual(c.reply);
      else await expect(pending).rejects.toSatisfy((e: unknown) => e instanceof OpenFlowError && errorCodes.includes(e.code) && e.code !== "protocol");
    });
  });
});
