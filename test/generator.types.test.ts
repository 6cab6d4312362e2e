/**
 * Type-level tests of the generated client and types, and a strict typecheck of everything in generated/.
 * The `typeTests` function is never called: it is checked by the TypeScript program below (and by
 * `npm run typecheck`). `@ts-expect-error` lines prove that wrong payloads do not compile.
 */
import { describe, expect, expectTypeOf, it } from "vitest";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import ts from "typescript";
import { OpenFlowCommands } from "../generated/client.js";
import { commands } from "../generated/commands.js";
import type { AnyRequest, Base, ClientCommandName, CommandMap, Entity, QueryReply, QueryRequest, RequestOf, ServerCommandName, WithDocuments } from "../generated/types.js";
import type { PushContext, PushHandler } from "../runtime/symbols.js";
import { ROOT } from "./fixtures/generator/helpers.js";

export function typeTests(client: OpenFlowCommands): void {
  expectTypeOf(client.query).parameter(0).toEqualTypeOf<QueryRequest>();
  expectTypeOf(client.query({ collectionname: "entities", query: {} })).resolves.toEqualTypeOf<WithDocuments<QueryReply, "result", Entity<Base>>>();
  expectTypeOf<RequestOf<"query">>().toEqualTypeOf<QueryRequest>();
  expectTypeOf<CommandMap["query"]["reply"]>().toEqualTypeOf<QueryReply>();
  expectTypeOf<"query">().toMatchTypeOf<ClientCommandName>();
  expectTypeOf<"watchevent">().toMatchTypeOf<ServerCommandName>();
  expectTypeOf<"watchevent">().not.toMatchTypeOf<ClientCommandName>();

  // @ts-expect-error collectionname must be a string
  void client.query({ collectionname: 5, query: {} });
  // @ts-expect-error query is required
  void client.query({ collectionname: "entities" });
  // @ts-expect-error top must be a number
  void client.query({ collectionname: "entities", query: {}, top: "10" });
  // @ts-expect-error the payload is required for query
  void client.query();
  // @ts-expect-error no method for a command only the server starts
  void client.watchEvent;

  const ok: AnyRequest = { command: "query", payload: { collectionname: "entities", query: "{}" } };
  void ok;
  // @ts-expect-error payload does not fit the command it is tagged with
  const bad: AnyRequest = { command: "query", payload: { top: 1 } };
  void bad;

  const off = client.onQueueMessage((payload, context) => {
    expectTypeOf(context).toEqualTypeOf<PushContext>();
    expectTypeOf(payload).toEqualTypeOf<CommandMap["queuemessage"]["request"]>();
  });
  expectTypeOf(off).toEqualTypeOf<() => void>();
}

/** A core that records calls, as the runtime's would send frames. */
function recordingCore() {
  const calls: { command: string; payload: unknown; options: unknown }[] = [];
  const handlers = new Map<string, PushHandler>();
  return {
    calls,
    handlers,
    core: {
      request: async (command: string, payload: unknown, options?: unknown) => {
        calls.push({ command, payload, options });
        return { echoed: command };
      },
      onCommand: (command: string, handler: PushHandler) => {
        handlers.set(command, handler);
        return () => void handlers.delete(command);
      },
    },
  };
}

describe("generated client", () => {
  it("sends each command string through core.request with payload and options", async () => {
    const rec = recordingCore();
    const client = new OpenFlowCommands(rec.core);
    const reply = await client.query({ collectionname: "entities", query: {} }, { timeoutMs: 5 });
    expect(reply).toEqual({ echoed: "query" });
    expect(rec.calls).toEqual([{ command: "query", payload: { collectionname: "entities", query: {} }, options: { timeoutMs: 5 } }]);
    await client.insertOrUpdateOne({ collectionname: "entities", item: { name: "x" }, uniqeness: "name" } as never);
    expect(rec.calls[1]?.command).toBe("insertorupdateone");
  });

  it("registers handlers for server-started commands and unregisters them", async () => {
    const rec = recordingCore();
    const client = new OpenFlowCommands(rec.core);
    const seen: unknown[] = [];
    const off = client.onWatchEvent((payload) => void seen.push(payload));
    const handler = rec.handlers.get("watchevent");
    expect(handler).toBeDefined();
    await handler?.({ id: "w1" }, { command: "watchevent", id: "f1" });
    expect(seen).toEqual([{ id: "w1" }]);
    off();
    expect(rec.handlers.has("watchevent")).toBe(false);
  });

  it("has a method for every client-started answered command and a handler for every server-started one", () => {
    const proto = OpenFlowCommands.prototype as unknown as Record<string, unknown>;
    for (const d of Object.values(commands)) {
      if (d.direction !== "s2c" && d.replyExpected && d.replyType !== null) expect(typeof proto[d.method], d.name).toBe("function");
      if (d.direction !== "c2s") expect(typeof proto[d.handler], d.name).toBe("function");
    }
  });
});

describe("generated/ typechecks under the strictest settings", () => {
  it("has no diagnostics, and every @ts-expect-error above is needed", async () => {
    const dir = join(ROOT, "generated");
    const roots = (await readdir(dir)).filter((f) => f.endsWith(".ts")).map((f) => join(dir, f));
    roots.push(join(ROOT, "test/generator.types.test.ts"));
    // The app developer's view of the client (closed requests, typed request/user/watch, document types).
    const typeTests = join(ROOT, "test/types");
    for (const f of (await readdir(typeTests)).filter((f) => f.endsWith(".ts")).sort()) roots.push(join(typeTests, f));
    const program = ts.createProgram(roots, {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      noImplicitOverride: true,
      noImplicitReturns: true,
      noUnusedLocals: true,
      noUnusedParameters: true,
      noFallthroughCasesInSwitch: true,
      noPropertyAccessFromIndexSignature: false,
      useUnknownInCatchVariables: true,
      isolatedModules: true,
      verbatimModuleSyntax: false,
      allowJs: false,
      skipLibCheck: true,
      noEmit: true,
      types: ["node"],
    });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file ? `${d.file.fileName.slice(ROOT.length + 1)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : "";
      return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
    });
    expect(diagnostics).toEqual([]);
  });
});
