/**
 * Redaction in captures: the secret field names come from the schemas (not a hand list), values are replaced at
 * any depth and inside JSON text held in strings, the JSON stays valid and the field present, and a secret split
 * across the chunks of one message is redacted too (the chunks keep their id, count and index).
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { encodeMessageText } from "../runtime/framing.js";
import { ConnectionsValidator } from "../validator/connections.js";
import { CaptureRecorder, parseWireMessage } from "../validator/recorder.js";
import { REDACTED, redactText } from "../validator/redact.js";
import { secretFieldNames } from "../validator/secrets.js";

describe("secret fields", () => {
  it("are read from the schemas: password, jwt and every string property described as a token", () => {
    const names = secretFieldNames();
    for (const name of ["password", "jwt", "__jwt", "rawassertion", "firebasetoken"]) expect(names.has(name)).toBe(true);
    // Flags about tokens are booleans, not secrets.
    for (const name of ["longtoken", "striptoken", "validate_only", "username"]) expect(names.has(name)).toBe(false);
  });

  it("follow the schemas: a new field marked secret is redacted with no code change; prose that mentions a token is not a mark", () => {
    const dir = mkdtempSync(join(tmpdir(), "openflow-secrets-"));
    try {
      mkdirSync(join(dir, "commands"));
      const schema = {
        $defs: {
          request: {
            type: "object",
            properties: {
              apikey: { type: "string", description: "Access token of the billing API.", "x-openflow": { secret: true } },
              usetoken: { type: "boolean", description: "Send a token." },
              message: { type: "string", description: "The parser's text, e.g. `Unexpected token o in JSON`." },
              nested: { type: "object", properties: { secret: { type: ["string", "null"], description: "A refresh token.", "x-openflow": { secret: true } } } },
            },
          },
        },
      };
      writeFileSync(join(dir, "commands", "frobnicate.json"), JSON.stringify(schema));
      expect([...secretFieldNames(dir)].sort()).toEqual(["apikey", "jwt", "password", "secret"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("redactText", () => {
  const secrets = secretFieldNames();

  it("replaces secrets at any depth and inside JSON text in strings, keeping the JSON valid and the fields present", () => {
    const body = JSON.stringify({ payload: { text: "hi" }, __jwt: "eyJ.sender.sig", __user: { name: "u" } });
    const text = JSON.stringify({ queuename: "q", data: body, list: [{ Password: "p1" }], jwt: "eyJ.a.b", empty: "", none: null });
    const out = redactText(text, secrets);
    const parsed = JSON.parse(out);
    expect(parsed.jwt).toBe(REDACTED);
    expect(parsed.list[0].Password).toBe(REDACTED);
    expect(parsed.empty).toBe("");
    expect(parsed.none).toBeNull();
    const inner = JSON.parse(parsed.data);
    expect(inner).toEqual({ payload: { text: "hi" }, __jwt: REDACTED, __user: { name: "u" } });
    for (const secret of ["eyJ.sender.sig", "p1", "eyJ.a.b"]) expect(out).not.toContain(secret);
  });

  it("returns the same text when there is nothing to redact or it is not JSON", () => {
    const clean = '{ "query": {"name": "x"},   "top": 1 }';
    expect(redactText(clean, secrets)).toBe(clean);
    expect(redactText("Unknown command frobnicate", secrets)).toBe("Unknown command frobnicate");
  });
});

describe("CaptureRecorder", () => {
  const lines = (): { out: string[]; recorder: (redact?: boolean) => CaptureRecorder } => {
    const out: string[] = [];
    return { out, recorder: (redact = true) => new CaptureRecorder((l) => out.push(l), { redact, now: () => Date.UTC(2026, 0, 2, 3, 4, 5) }) };
  };

  it("redacts a password split across chunks; the chunks keep id, count and index, and the capture validates", () => {
    const password = "split-across-chunks-secret";
    const request = { id: "s1", command: "signin", data: JSON.stringify({ username: "admin", password }) };
    const chunks = encodeMessageText(request, 12);
    expect(chunks.length).toBeGreaterThan(3);
    // The secret itself is cut by the chunking.
    expect(chunks.some((c) => c.includes(password))).toBe(false);
    const { out, recorder } = lines();
    const r = recorder();
    r.event("c1", "open");
    for (const c of chunks) r.message("c1", "c2s", parseWireMessage(c));
    r.message("c1", "s2c", parseWireMessage(JSON.stringify({ id: "r1", replyto: "s1", command: "signin", data: JSON.stringify({ jwt: "eyJ.reply.sig", user: { name: "admin", username: "admin" } }) })));
    r.event("c1", "close", { by: "client", code: 1000 });
    const text = out.join("");
    expect(text).not.toContain("split-across");
    expect(text).not.toContain("eyJ.reply.sig");
    const records = out.map((l) => JSON.parse(l));
    const frames = records.filter((l) => l.dir === "c2s").map((l) => l.frame);
    expect(frames.map((f) => [f.id, f.count, f.index])).toEqual(chunks.map((_, i) => ["s1", chunks.length, i]));
    expect(JSON.parse(frames.map((f) => f.data).join(""))).toEqual({ username: "admin", password: REDACTED });
    expect(records[0]).toEqual({ conn: "c1", ts: "2026-01-02T03:04:05.000Z", event: "open" });
    expect(records.at(-1)).toMatchObject({ conn: "c1", event: "close", by: "client", code: 1000 });
    const validator = new ConnectionsValidator();
    for (const l of out) validator.push(l);
    expect(validator.finish()).toEqual([]);
    expect(validator.stats).toMatchObject({ connections: 1, messages: 2 });
  });

  it("blanks the chunks of a message still incomplete when its connection closes", () => {
    const chunks = encodeMessageText({ id: "s2", command: "signin", data: JSON.stringify({ username: "a", password: "never-complete-secret" }) }, 10);
    const { out, recorder } = lines();
    const r = recorder();
    for (const c of chunks.slice(0, -1)) r.message("c9", "c2s", parseWireMessage(c));
    expect(out).toEqual([]); // held until complete
    r.event("c9", "close", { by: "upstream", code: 1006 });
    expect(out.join("")).not.toContain("never-complete");
    const records = out.map((l) => JSON.parse(l));
    expect(records.filter((l) => l.frame).map((l) => l.frame.data)).toEqual(chunks.slice(0, -1).map(() => REDACTED));
    const validator = new ConnectionsValidator();
    for (const l of out) validator.push(l);
    expect(validator.finish().map((f) => [f.code, f.connection])).toEqual([["incomplete-message", "c9"]]);
  });

  it("writes everything verbatim and in order with redaction off, and a non-JSON message as its text", () => {
    const { out, recorder } = lines();
    const r = recorder(false);
    const chunks = encodeMessageText({ id: "s3", command: "signin", data: JSON.stringify({ username: "a", password: "kept" }) }, 10);
    for (const c of chunks) r.message("c1", "c2s", parseWireMessage(c));
    r.message("c1", "c2s", parseWireMessage("{broken"));
    const records = out.map((l) => JSON.parse(l));
    expect(records.slice(0, -1).map((l) => JSON.stringify(l.frame))).toEqual(chunks.map((c) => JSON.stringify(JSON.parse(c))));
    expect(records.at(-1)).toMatchObject({ dir: "c2s", frame: "{broken" });
    const validator = new ConnectionsValidator();
    for (const l of out) validator.push(l);
    expect(validator.finish().map((f) => f.code)).toEqual(["not-json", "unanswered-request"]);
  });
});
