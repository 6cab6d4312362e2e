/**
 * The fuzzer's pure parts: request generation from the schemas (valid, reproducible from the seed, pinned to the
 * prefix), shrinking (minimal, bounded), the error-style reading of replies, and replay's comparison rules.
 */
import { describe, expect, it } from "vitest";
import { draw, schemaArbitrary } from "../fuzz/arbitrary.js";
import { compareReplies } from "../fuzz/capture-replay.js";
import { randomCommands, randomStep } from "../fuzz/generate.js";
import { errorInfo, type Failure } from "../fuzz/runner.js";
import { shrink } from "../fuzz/shrink.js";
import { loadSpec } from "../fuzz/spec.js";
import { fill, type Step } from "../fuzz/steps.js";
import { validatePayload } from "../runtime/validate.js";

const spec = loadSpec();

describe("generation from the schemas", () => {
  it("draws mostly valid requests for every command a client sends", () => {
    const poor: string[] = [];
    for (const [command, info] of spec.commands) {
      if (!info.request || info.direction === "s2c") continue;
      const arb = schemaArbitrary(info.request, spec, `commands/${command}.json`);
      let valid = 0;
      for (let i = 0; i < 20; i++) if (validatePayload(command, "request", draw(arb, i * 101 + 7)).length === 0) valid++;
      if (valid < 10) poor.push(`${command}: ${valid}/20`);
    }
    expect(poor).toEqual([]);
  });

  it("random valid steps pass the request schema, are pinned to the prefix, and repeat with their seed", () => {
    const commands = randomCommands(spec, () => true);
    expect(commands.length).toBeGreaterThan(15);
    for (const command of commands) {
      for (let seed = 1; seed <= 15; seed++) {
        const step = randomStep(spec, command, seed, { invalid: false });
        expect(randomStep(spec, command, seed, { invalid: false })).toEqual(step);
        const payload = fill(step.payload, new Map([["P", "ofsfuzz_1_1"]])) as Record<string, unknown>;
        expect(validatePayload(command, "request", payload), `${command} seed ${seed}`).toEqual([]);
        for (const key of ["collectionname", "queuename", "wiq"]) {
          if (typeof payload[key] === "string") expect(payload[key]).toMatch(/^ofsfuzz_1_1_/);
        }
        expect(payload).not.toHaveProperty("jwt");
      }
    }
  });

  it("invalid variants break the request but never its target", () => {
    const kinds = new Set<string>();
    for (let seed = 1; seed <= 60; seed++) {
      const step = randomStep(spec, "insertone", seed, { invalid: true });
      kinds.add(step.note.replace(/ \(seed \d+\)$/, "").replace(/^random: insertone /, ""));
      const payload = step.payload as Record<string, unknown> | unknown[];
      if (!Array.isArray(payload)) expect(payload.collectionname).toBe("${P}_data");
      if (step.expect === "error") expect(validatePayload("insertone", "request", payload).length).toBeGreaterThan(0);
    }
    expect([...kinds]).toEqual(expect.arrayContaining(["without required item", "with a payload that is not an object", "with a 100 000-character value", "with an unknown field"]));
  });
});

describe("shrinking", () => {
  const steps: Step[] = Array.from({ length: 12 }, (_, i) => ({ as: 0, note: `s${i}`, command: i === 9 ? "updateone" : "query", expect: "any" }));
  const failure = (step: number): Failure => ({ invariant: "read-your-writes", message: "", step, note: "", command: "updateone" });

  it("finds the minimal sequence: the steps the failure needs, in order", async () => {
    // Fails when s3 and s9 both run (s9 is the failing updateone).
    const result = await shrink(steps, failure(9), async (candidate) => {
      const at = candidate.findIndex((s) => s.note === "s9");
      return at >= 0 && candidate.some((s) => s.note === "s3") ? failure(at) : undefined;
    }, { maxRuns: 100, maxMs: 10_000 });
    expect(result.steps.map((s) => s.note)).toEqual(["s3", "s9"]);
    expect(result.bounded).toBe(false);
  });

  it("then drops the failing step's payload fields the failure does not need", async () => {
    const one: Step[] = [{ as: 0, note: "x", command: "updateone", payload: { collectionname: "c", bad: 1, extra: "e", more: [1] }, expect: "any" }];
    const result = await shrink(one, failure(0), async (candidate) => ("bad" in (candidate[0]?.payload as object) ? failure(0) : undefined), { maxRuns: 20, maxMs: 10_000 });
    expect(result.steps[0]?.payload).toEqual({ bad: 1 });
  });

  it("stops at the bound on runs and returns the smallest failing sequence so far", async () => {
    let runs = 0;
    const result = await shrink(steps, failure(9), async (candidate) => {
      runs++;
      const at = candidate.findIndex((s) => s.note === "s9");
      return at >= 0 ? failure(at) : undefined;
    }, { maxRuns: 2, maxMs: 10_000 });
    expect(runs).toBe(2);
    expect(result.bounded).toBe(true);
    expect(result.steps.map((s) => s.note)).toContain("s9");
  });
});

describe("error styles", () => {
  it("reads both styles, and framing errors without a style", () => {
    expect(errorInfo("error", { message: "Access denied", error: "Access denied" })).toEqual({ isError: true, style: "latest", text: "Access denied" });
    expect(errorInfo("query", { collectionname: "x", error: "Access denied" })).toEqual({ isError: true, style: "2021", text: "Access denied" });
    expect(errorInfo("error", { message: "Unknown command x" }).style).toBeUndefined();
    expect(errorInfo("query", { result: [] }).isError).toBe(false);
    expect(errorInfo("error", "Unknown command").isError).toBe(true);
  });
});

describe("replay comparison", () => {
  const secrets = new Set(["jwt", "password"]);
  it("maps server-made ids, ignores dates, tokens and redacted values, and reports the rest with a pointer", () => {
    const ids = new Map<string, unknown>();
    const recorded = { result: { _id: "a1", _created: "2020-01-01", n: 1, jwt: "x", list: [1, 2] }, token: "[redacted]" };
    const live = { result: { _id: "b7", _created: "2026-12-07", n: 1, jwt: "y", list: [1, 2] }, token: "secret" };
    expect(compareReplies(recorded, live, ids, secrets)).toEqual([]);
    expect(ids.get("a1")).toBe("b7");
    // The same recorded id must meet the same live id later.
    expect(compareReplies({ _id: "a1", n: 2 }, { _id: "c9", n: 3 }, ids, secrets).map((d) => d.pointer)).toEqual(["/_id", "/n"]);
    expect(compareReplies({ list: [1, 2] }, { list: [1] }, ids, secrets)[0]).toMatchObject({ pointer: "/list", message: "recorded 2 items, got 1" });
  });
});
