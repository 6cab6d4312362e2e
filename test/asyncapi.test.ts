/**
 * The AsyncAPI 3.0 export (generated/asyncapi.json): the official AsyncAPI parser reads it with no error and no
 * warning; every command file is an operation with its request and reply messages; every example in it validates
 * against its message's payload and headers; and Modelina turns it into TypeScript and Python models that compile,
 * which is the proof that other languages get the spec without a generator of ours per language.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Parser, type AsyncAPIDocumentInterface, type Diagnostic } from "@asyncapi/parser";
import { PythonGenerator, TypeScriptGenerator } from "@asyncapi/modelina";
import { Ajv } from "ajv";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../cli/asyncapi.js";
import { ROOT } from "./fixtures/generator/helpers.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const text = readFileSync(join(ROOT, "generated/asyncapi.json"), "utf8");
const doc = JSON.parse(text) as Json;
const commandFiles = readdirSync(join(ROOT, "schemas/commands"))
  .filter((f) => f.endsWith(".json"))
  .map((f) => JSON.parse(readFileSync(join(ROOT, "schemas/commands", f), "utf8")) as Json);
const refName = (ref: { $ref: string }): string => ref.$ref.split("/").at(-1) as string;

let parsed: AsyncAPIDocumentInterface | undefined;
let diagnostics: Diagnostic[] = [];
const work = mkdtempSync(join(tmpdir(), "openflow-asyncapi-"));

beforeAll(async () => {
  // The parser runs AsyncAPI's own Spectral ruleset over the whole document: one parse, shared by the tests.
  ({ document: parsed, diagnostics } = await new Parser().parse(text));
}, 180_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("AsyncAPI export", () => {
  it("parses with @asyncapi/parser: no errors, no warnings", () => {
    // Spectral severities: 0 error, 1 warning, 2 information, 3 hint.
    const problems = diagnostics.filter((d) => d.severity <= 1).map((d) => `${d.code} at ${d.path.join("/")}: ${d.message}`);
    expect(problems).toEqual([]);
    expect(parsed).toBeDefined();
    expect(parsed?.version()).toBe("3.0.0");
  });

  it("has one operation per command and direction, with its request and (where there is one) reply message", () => {
    const operations = Object.values(doc["operations"] as Record<string, Json>);
    const missing: string[] = [];
    for (const file of commandFiles) {
      const meta = file["x-openflow"] as Json;
      const actions = meta["direction"] === "c2s" ? ["send"] : meta["direction"] === "s2c" ? ["receive"] : ["send", "receive"];
      for (const action of actions) {
        const op = operations.find((o) => o["x-openflow"].command === meta["command"] && o["action"] === action);
        if (!op) {
          missing.push(`${meta["command"]}: no ${action} operation`);
          continue;
        }
        const request = doc["components"].messages[refName(op["messages"][0])] as Json;
        expect(request["name"]).toBe(meta["command"]);
        expect(refName(request["payload"])).toBe(file["$defs"].request.title);
        if (typeof meta["replyCommand"] === "string") {
          const replies = (op["reply"]?.messages ?? []).map((m: { $ref: string }) => doc["components"].messages[refName(m)] as Json);
          expect(replies[0]?.name, `${meta["command"]} reply`).toBe(meta["replyCommand"]);
          expect(refName(replies[0].payload)).toBe(file["$defs"].reply.title);
        } else {
          expect(op["reply"], `${meta["command"]} has no reply`).toBeUndefined();
        }
        expect(op["x-openflow"].implementations).toEqual(meta["implementations"]);
        expect(op["x-openflow"].deprecated).toBe(file["deprecated"] === true);
      }
    }
    expect(missing).toEqual([]);
    expect(parsed?.operations().length).toBe(operations.length);
  });

  it("declares the correlation through id and replyto, and the websocket paths", () => {
    const messages = Object.values(doc["components"].messages as Record<string, Json>);
    for (const m of messages) expect(["#/components/correlationIds/frameId", "#/components/correlationIds/replyTo"]).toContain(m["correlationId"].$ref);
    expect(doc["components"].correlationIds.replyTo.location).toBe("$message.header#/replyto");
    expect(doc["servers"].local.variables.path.enum).toEqual(["/", "/ws", "/ws/v1"]);
  });

  it("every example validates against its message payload and headers (draft-07, as AsyncAPI reads them)", () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    const { id: _id, ...asSchema } = doc; // AsyncAPI's root `id` is not a schema id
    ajv.addSchema(asSchema, "asyncapi");
    const failures: string[] = [];
    let checked = 0;
    for (const [name, message] of Object.entries(doc["components"].messages as Record<string, Json>)) {
      const payload = ajv.getSchema(`asyncapi${message["payload"].$ref}`);
      const headers = ajv.compile({ $ref: "asyncapi#/components/messages/" + name + "/headers" });
      for (const example of (message["examples"] ?? []) as Json[]) {
        checked++;
        if (!payload?.(example["payload"])) failures.push(`${name} ${example["name"]} payload: ${ajv.errorsText(payload?.errors)}`);
        if (!headers(example["headers"])) failures.push(`${name} ${example["name"]} headers: ${ajv.errorsText(headers.errors)}`);
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(150);
  });

  it("is what `openflow-spec asyncapi` writes for the repository's schemas", { timeout: 120_000 }, async () => {
    let out = "";
    expect(await main(["--schemas", join(ROOT, "schemas")], { stdout: (t) => void (out += t), stderr: () => undefined })).toBe(0);
    expect(out).toBe(text);
    let err = "";
    expect(await main(["--schemas", join(work, "nope")], { stdout: () => undefined, stderr: (t) => void (err += t) })).toBe(2);
    expect(err).toMatch(/--schemas .*nope: cannot read schemas directory/);
  });
});

describe("Modelina models from the export", () => {
  it("TypeScript models type-check under strict", { timeout: 120_000 }, async () => {
    const models = await new TypeScriptGenerator({ modelType: "interface" }).generateCompleteModels(parsed as AsyncAPIDocumentInterface, { exportType: "named" });
    expect(models.map((m) => m.modelName)).toEqual(expect.arrayContaining(["QueryRequest", "QueryReply", "Workitem", "WorkitemQueue"]));
    const files = models.map((m) => {
      const file = join(work, `${m.modelName}.ts`);
      writeFileSync(file, m.result);
      return file;
    });
    const program = ts.createProgram(files, { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, skipLibCheck: true, types: [] });
    const errors = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    expect(errors).toEqual([]);
  });

  it("Python models compile (python3 -m py_compile)", { timeout: 120_000 }, async (ctx) => {
    const python = spawnSync("python3", ["--version"], { encoding: "utf8" });
    if (python.status !== 0) {
      if (process.env["CI"] === "true") throw new Error("python3 is needed for this test under CI");
      ctx.skip();
    }
    const models = await new PythonGenerator().generateCompleteModels(parsed as AsyncAPIDocumentInterface, {});
    expect(models.map((m) => m.modelName)).toEqual(expect.arrayContaining(["QueryRequest", "WatchEventRequest"]));
    const files = models.map((m) => {
      const file = join(work, `${m.modelName}.py`);
      writeFileSync(file, m.result);
      return file;
    });
    const compiled = spawnSync("python3", ["-m", "py_compile", ...files], { encoding: "utf8", timeout: 60_000 });
    expect(compiled.stderr).toBe("");
    expect(compiled.status).toBe(0);
  });
});
