/**
 * End to end: copy the project's schemas, generator and templates to a temp dir, add a new command schema, run the
 * generator there as a separate process, and find the new type, validator, client method and doc page. Then a
 * hand edit makes `--check` fail.
 */
import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { cp, mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { ROOT, tempDir } from "./fixtures/generator/helpers.js";

const run = promisify(execFile);

const NEW_COMMAND = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: "https://openflow-spec.dev/schemas/commands/getqueuecount.json",
  title: "getqueuecount",
  description: "Count the messages waiting in a queue (end-to-end test command).",
  "x-openflow": {
    command: "getqueuecount",
    purpose: "Count queued messages",
    direction: "c2s",
    replyCommand: "getqueuecount",
    replyExpected: true,
    effect: "read",
    protobuf: { status: "none", instead: "No protobuf message: an end-to-end test command." },
    implementations: { "api-2021": [], "api-latest": ["send"], "server-2021": [], "server-latest": ["yes"], "openrpa-2021": [], "openrpa-latest": [] },
    // Every error is a claim with its own source naming a symbol (lint rule claim-sources).
    errors: [{ text: "Queue not found", sources: [{ url: "https://github.com/open-rpa/openflow/blob/d9a48a2a2facbee4efa67b87f6573ce1852a0c3b/src/Messages/Message.ts#L1354-L1374", what: "test command; shape example: the Count handler", symbol: "Count" }] }],
    sources: {
      "api-latest": [{ url: "https://github.com/open-rpa/openflow-api/blob/a1c80a7a41fbd6678c6ebf55e52bb4a734ccb513/src/nodeclient/NoderedUtil.ts#L201-L221", what: "test command; shape example: the Count helper" }],
      "server-latest": [{ url: "https://github.com/open-rpa/openflow/blob/d9a48a2a2facbee4efa67b87f6573ce1852a0c3b/src/Messages/Message.ts#L1354-L1374", what: "test command; shape example: the Count handler" }],
    },
  },
  $defs: {
    request: {
      title: "GetQueueCountRequest",
      description: "Which queue to count.",
      type: "object",
      allOf: [{ $ref: "../defs/payload.json#/$defs/RequestCommon" }],
      required: ["queuename"],
      properties: { queuename: { type: "string", minLength: 1, description: "Queue name." } },
      examples: [{ queuename: "work" }],
    },
    reply: {
      title: "GetQueueCountReply",
      description: "The request echoed plus `count`.",
      type: "object",
      allOf: [{ $ref: "../defs/payload.json#/$defs/ReplyCommon" }],
      properties: { count: { type: "integer", minimum: 0, description: "Messages waiting." } },
      examples: [{ queuename: "work", count: 3 }],
    },
  },
};

describe("generator end to end in a copy of the project", () => {
  it("picks up a new command everywhere, and --check catches a hand edit", { timeout: 60_000 }, async () => {
    const dir = await tempDir("e2e");
    for (const sub of ["schemas", "generator", "sources", "templates", "runtime/symbols.ts", "cli", "package.json", "tsconfig.json"]) {
      await mkdir(join(dir, sub, ".."), { recursive: true });
      await cp(join(ROOT, sub), join(dir, sub), { recursive: true });
    }
    await symlink(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
    await writeFile(join(dir, "schemas/commands/getqueuecount.json"), JSON.stringify(NEW_COMMAND, null, 2));

    const tsx = join(ROOT, "node_modules/tsx/dist/cli.mjs");
    const generated = await run(process.execPath, [tsx, "cli/main.ts", "generate"], { cwd: dir, timeout: 45_000 });
    expect(generated.stdout).toMatch(/generated \d+ files in generated/);

    const out = join(dir, "generated");
    const types = await readFile(join(out, "types.ts"), "utf8");
    expect(types).toMatch(/export (interface|type) GetQueueCountRequest\b/);
    expect(types).toContain('"getqueuecount": { request: GetQueueCountRequest; reply: GetQueueCountReply };');

    const client = await readFile(join(out, "client.ts"), "utf8");
    expect(client).toContain("getQueueCount(payload: GetQueueCountRequest, options?: CallOptions): Promise<GetQueueCountReply>");

    const page = await readFile(join(out, "docs/commands/getqueuecount.md"), "utf8");
    expect(page).toContain("# `getqueuecount`");
    expect(page).toContain("| `queuename` | string | yes | Queue name. |");
    expect(await readFile(join(out, "docs/README.md"), "utf8")).toContain("[`getqueuecount`](commands/getqueuecount.md)");

    const validators = (await import(pathToFileURL(join(out, "validators.js")).href)) as {
      requestValidators: Record<string, (v: unknown) => boolean>;
      replyValidators: Record<string, (v: unknown) => boolean>;
    };
    expect(validators.requestValidators["getqueuecount"]?.({ queuename: "work" })).toBe(true);
    expect(validators.requestValidators["getqueuecount"]?.({ queuename: "" })).toBe(false);
    expect(validators.replyValidators["getqueuecount"]?.({ count: -1 })).toBe(false);

    // Up to date right after generating; a hand edit to a generated file makes --check fail and name the file.
    // (In-process through the copied generator, to keep the test fast.)
    const copy = (await import(pathToFileURL(join(dir, "cli/generate.ts")).href)) as typeof import("../cli/generate.js");
    const args = ["--check", "--schemas", join(dir, "schemas"), "--out", out, "--templates", join(dir, "templates")];
    let stderr = "";
    const io = { stdout: () => undefined, stderr: (t: string) => void (stderr += t) };
    expect(await copy.main(args, io)).toBe(0);
    await writeFile(join(out, "client.ts"), client.replace("getQueueCount(", "getQueueCountEdited("));
    expect(await copy.main(args, io)).toBe(1);
    expect(stderr).toMatch(/changed: .*generated\/client\.ts/);
  });
});
