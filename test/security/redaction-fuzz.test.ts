/**
 * Item 7, redaction of malformed client data: a frame that names a secret field anywhere (the fields the schemas
 * mark `"x-openflow": {"secret": true}`, plus password and jwt), well-formed or not, must reach the capture with
 * the secret's value gone. Property-based with a fixed seed: generated frames put a secret in every encoding a
 * client can send (duplicate keys, a numeric value, a byte-order mark, JSON inside JSON strings, escaped key names,
 * broken JSON, text before the JSON, the frame's own fields, chunked messages), and the capture is searched for
 * the value, also after decoding every level of escaping.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { loggerSecretKeys, redact as logRedact, redactText as logRedactText } from "../../runtime/logger.js";
import { CaptureRecorder, parseWireMessage } from "../../validator/recorder.js";
import { secretFieldNames } from "../../validator/secrets.js";

const names = [...secretFieldNames()].sort();

/** Text with every escaping level undone, so a secret written as `\u0053...` or `\\\"...` is found too. */
function decoded(text: string): string {
  let out = text;
  for (let i = 0; i < 10; i++) {
    const next = out.replace(/\\+u([0-9a-fA-F]{4})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))).replace(/\\+(["\\/])/g, "$1");
    if (next === out) break;
    out = next;
  }
  return out;
}

/** A secret value: a token no generated frame holds by chance, or a long number. */
const secretArb = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9]{10,16}$/).map((s) => ({ json: JSON.stringify(`S3cr3t${s}`), needle: `S3cr3t${s}` })),
  fc.integer({ min: 100_000_000_000, max: 900_000_000_000 }).map((n) => ({ json: String(n), needle: String(n) })),
);

/** The key as it appears in JSON text: any case, some letters as `\u` escapes, maybe blanks inside the quotes. */
const keyArb = fc.tuple(fc.constantFrom(...names), fc.array(fc.boolean(), { minLength: 16, maxLength: 16 }), fc.array(fc.boolean(), { minLength: 16, maxLength: 16 })).map(([name, upper, escape]) =>
  [...name].map((c, i) => {
    const ch = upper[i] ? c.toUpperCase() : c;
    return escape[i] ? `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}` : ch;
  }).join(""),
);

type Encoding = "plain" | "duplicate-first" | "duplicate-last" | "bom" | "in-string" | "in-string-twice" | "broken" | "text-before" | "deep" | "array";
const encodingArb = fc.constantFrom<Encoding>("plain", "duplicate-first", "duplicate-last", "bom", "in-string", "in-string-twice", "broken", "text-before", "deep", "array");

/** JSON text of a payload holding `"key": secret` in the given encoding. */
function payloadText(key: string, secret: string, encoding: Encoding, spaced: boolean): string {
  const pair = spaced ? ` "${key}" :  ${secret} ` : `"${key}":${secret}`;
  const obj = `{"username":"alice",${pair},"validate_only":false}`;
  switch (encoding) {
    case "plain":
      return obj;
    case "duplicate-first":
      return `{${pair},"${key}":""}`;
    case "duplicate-last":
      return `{"${key}":null,"other":1,${pair}}`;
    case "bom":
      return `\ufeff${obj}`;
    case "in-string":
      return JSON.stringify({ queuename: "q", data: obj });
    case "in-string-twice":
      return JSON.stringify({ payload: JSON.stringify({ body: obj }) });
    case "broken":
      return obj.slice(0, obj.indexOf(secret) + secret.length);
    case "text-before":
      return `note ${obj}`;
    case "deep":
      return `{"a":[{"b":{"c":[1,${obj}]}}]}`;
    case "array":
      return `[1,${obj}]`;
  }
}

type Placement = "data-string" | "data-object" | "frame-field" | "duplicate-data" | "frame-bom" | "chunked";
const placementArb = fc.constantFrom<Placement>("data-string", "data-string", "data-object", "frame-field", "duplicate-data", "frame-bom", "chunked");

/** The websocket messages (texts) of one frame carrying the payload. */
function messages(payload: string, placement: Placement, chunks: number, key: string, secret: string): string[] {
  const head = `"id":"7","command":"signin"`;
  switch (placement) {
    case "data-string":
      return [`{${head},"data":${JSON.stringify(payload)}}`];
    case "data-object":
      // Some peers send data as an object: only possible when the payload is JSON (else it is sent as a string).
      try {
        JSON.parse(payload);
        return [`{${head},"data":${payload}}`];
      } catch {
        return [`{${head},"data":${JSON.stringify(payload)}}`];
      }
    case "frame-field":
      return [`{${head},"${key}":${secret},"data":"{}"}`];
    case "duplicate-data":
      return [`{${head},"data":${JSON.stringify(payload)},"data":"{}"}`];
    case "frame-bom":
      return [`\ufeff{${head},"data":${JSON.stringify(payload)}}`];
    case "chunked": {
      const out: string[] = [];
      for (let i = 0; i < chunks; i++) {
        const piece = payload.slice(Math.floor((i * payload.length) / chunks), Math.floor(((i + 1) * payload.length) / chunks));
        out.push(`{${head},"count":${chunks},"index":${i},"data":${JSON.stringify(piece)}}`);
      }
      return out;
    }
  }
}

function record(texts: string[]): string {
  let out = "";
  const recorder = new CaptureRecorder((line) => (out += line), { now: () => 0 });
  recorder.event("p1", "open");
  for (const text of texts) recorder.message("p1", "c2s", parseWireMessage(text), text);
  recorder.event("p1", "close", { by: "client", code: 1000 });
  recorder.flush();
  return out;
}

describe("redaction of malformed client data", () => {
  it("property: a secret in any encoding never reaches the capture, not even escaped", () => {
    fc.assert(
      fc.property(keyArb, secretArb, encodingArb, placementArb, fc.boolean(), fc.integer({ min: 2, max: 4 }), (key, secret, encoding, placement, spaced, chunks) => {
        const payload = payloadText(key, secret.json, encoding, spaced);
        const texts = messages(payload, placement, chunks, key, secret.json);
        const capture = record(texts);
        expect(capture.includes(secret.needle), capture).toBe(false);
        expect(decoded(capture).includes(secret.needle), capture).toBe(false);
        // Every capture line is one JSON line.
        for (const line of capture.trimEnd().split("\n")) JSON.parse(line);
      }),
      { seed: 19_7, numRuns: 1_500 },
    );
  });

  it("the examples of the review: duplicate keys, a numeric password, a BOM before the JSON", () => {
    const cases = [
      '{"id":"1","command":"signin","data":"{\\"password\\":\\"hunter2-dup\\",\\"password\\":\\"\\"}"}',
      '{"id":"1","command":"signin","data":"{\\"username\\":\\"a\\",\\"password\\":123456789}"}',
      '{"id":"1","command":"signin","data":"\\ufeff{\\"username\\":\\"a\\",\\"password\\":\\"hunter2-bom\\"}"}',
      '{"id":"1","command":"signin","data":"{\\"password\\":\\"pw-first-data\\"}","data":"{\\"password\\":\\"\\"}"}',
    ];
    const capture = record(cases);
    for (const secret of ["hunter2-dup", "123456789", "hunter2-bom", "pw-first-data"]) expect(capture).not.toContain(secret);
    // Well-formed data stays valid JSON with the field present; a number keeps its type.
    // Line 0 is the open event. Parsed data stays JSON with the field present; a number keeps its type; the
    // BOM-prefixed text is not JSON, so it is replaced whole.
    const data = capture.trim().split("\n").map((l) => (JSON.parse(l) as { frame?: { data?: unknown } }).frame?.data);
    expect(JSON.parse(String(data[1]))).toEqual({ password: "" });
    expect(JSON.parse(String(data[2]))).toEqual({ username: "a", password: 0 });
    expect(data[3]).toBe("[redacted]");
    expect(JSON.parse(String(data[4]))).toEqual({ password: "" });
  });

  it("text that merely mentions a secret's name is kept; well-formed frames without secrets are copied verbatim", () => {
    const error = '{"id":"2","replyto":"1","command":"error","data":"Invalid password"}';
    const query = '{"id":"3","command":"query","data":"{\\"collectionname\\":\\"users\\", \\"query\\":{}}"}';
    const capture = record([error, query]);
    expect(capture).toContain('"data":"Invalid password"');
    expect(capture).toContain(query);
  });
});

describe("the runtime logger's redaction", () => {
  it("covers every secret field the schemas mark", () => {
    for (const name of names) expect(loggerSecretKeys.has(name), name).toBe(true);
  });

  it("property: secrets in objects and in unparsed JSON text (escaped keys aside) never reach a log line", () => {
    const plainKey = fc.tuple(fc.constantFrom(...names), fc.array(fc.boolean(), { minLength: 16, maxLength: 16 })).map(([n, up]) => [...n].map((c, i) => (up[i] ? c.toUpperCase() : c)).join(""));
    fc.assert(
      fc.property(plainKey, secretArb, fc.constantFrom<Encoding>("plain", "duplicate-first", "duplicate-last", "bom", "in-string", "in-string-twice", "broken", "text-before", "deep"), fc.boolean(), (key, secret, encoding, spaced) => {
        const text = payloadText(key, secret.json, encoding, spaced);
        expect(logRedactText(text)).not.toContain(secret.needle);
        expect(JSON.stringify(logRedact({ message: text, fields: { [key]: JSON.parse(secret.json) } }))).not.toContain(secret.needle);
      }),
      { seed: 19_8, numRuns: 1_000 },
    );
  });
});
