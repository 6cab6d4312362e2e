/**
 * Golden tests: the small fixture schema set test/fixtures/generator/basic run through the whole pipeline in memory.
 * Each case checks one feature's file against test/fixtures/generator/__golden__/basic/ (update with `vitest -u`).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { fixtureTexts, generateTexts } from "./fixtures/generator/helpers.js";

let files: Map<string, string>;
beforeAll(async () => {
  files = await generateTexts(await fixtureTexts("basic"));
});

function golden(path: string): string {
  const text = files.get(path);
  if (text === undefined) throw new Error(`generator produced no ${path}; files: ${[...files.keys()].join(", ")}`);
  return text;
}

describe("golden output of the basic fixture", () => {
  const cases: [string, { file: string; contains: string[] }][] = [
    ["types: shared shape declared once, @deprecated, CommandMap", { file: "types.ts", contains: ["export interface Thing", "@deprecated Unknown in server-latest; use getthing.", "export interface CommandMap", 'export type ClientCommandName = "getthing" | "oldthing";', 'export type ServerCommandName = "thingchanged";'] }],
    ["client: method per c2s command, handler per s2c command", { file: "client.ts", contains: ["getThing(payload: GetThingRequest, options?: CallOptions): Promise<GetThingReply>", "onThingchanged(handler: PushHandler<ThingChangedRequest, void>): () => void", "oldthing(payload: OldThingRequest = {}, options?: CallOptions)", "@see https://github.com/openflow-spec/openflow-spec/blob/main/generated/docs/commands/getthing.md"] }],
    ["commands: descriptor table", { file: "commands.ts", contains: ['"method": "getThing"', '"replyCommand": null', "satisfies Readonly<Record<string, CommandDescriptor>>"] }],
    ["validators: declarations", { file: "validators.d.ts", contains: ["export declare const getthing_request: Validator;", "export declare const frame: Validator;"] }],
    ["docs: index", { file: "docs/README.md", contains: ["[`oldthing`](commands/oldthing.md) ⚠️ deprecated", "| Read a thing |"] }],
    ["docs: command page", { file: "docs/commands/getthing.md", contains: ["| `name` | string | yes | Thing name. |", "- A fixture note | with a pipe.", "`Not found`"] }],
    ["asyncapi: operations per direction, replies, converted contentSchema", { file: "asyncapi.json", contains: ['"asyncapi": "3.0.0"', '"sendGetThing": {', '"receiveThingchanged": {', '"$ref": "#/channels/connection/messages/GetThingReply"', '"x-contentSchema": {', '"$ref": "#/components/schemas/Thing"', '"x-deprecated": true'] }],
    ["docs: shared type page", { file: "docs/types/Thing.md", contains: ["# `Thing`", "[`schemas/defs/thing.json`](../../../schemas/defs/thing.json)", "Commands: [`getthing`](../commands/getthing.md)"] }],
    ["csharp: classes with wire names, base class, [Obsolete] from the deprecation", { file: "csharp/Commands.cs", contains: ["public partial class GetThingRequest : RequestCommon", '[global::Newtonsoft.Json.JsonProperty("name", NullValueHandling = global::Newtonsoft.Json.NullValueHandling.Ignore)]', '[global::System.Obsolete("Unknown in server-latest; use getthing.")]'] }],
    ["csharp: typed client surface", { file: "csharp/OpenFlowCommands.cs", contains: ["public abstract partial class OpenFlowCommands", "GetThingAsync(global::OpenFlowSpec.Models.GetThingRequest request, global::System.Threading.CancellationToken cancellationToken = default(global::System.Threading.CancellationToken))", "OnThingchanged("] }],
    ["docs: deprecated page", { file: "docs/commands/oldthing.md", contains: ["> **Deprecated.** Unknown in server-latest; use getthing."] }],
  ];
  it.each(cases)("%s", async (_name, { file, contains }) => {
    const text = golden(file);
    for (const snippet of contains) expect(text).toContain(snippet);
    await expect(text).toMatchFileSnapshot(`./fixtures/generator/__golden__/basic/${file}.golden`);
  });

  it("emits exactly the expected set of files", () => {
    expect([...files.keys()]).toEqual([
      ".gitattributes",
      "asyncapi.json",
      "client.ts",
      "commands.ts",
      "csharp/Commands.cs",
      "csharp/Defs.cs",
      "csharp/OpenFlowCommands.cs",
      "docs/README.md",
      "docs/commands/getthing.md",
      "docs/commands/oldthing.md",
      "docs/commands/thingchanged.md",
      "docs/html/index.html",
      "docs/migration.md",
      "docs/types/ReplyCommon.md",
      "docs/types/RequestCommon.md",
      "docs/types/Thing.md",
      "types.ts",
      "validators.d.ts",
      "validators.js",
      "vectors/examples.json",
    ]);
  });

  it("escapes */ in doc comments", () => {
    const types = golden("types.ts");
    expect(types).toContain("contains *\\/ to prove");
    expect(types).not.toMatch(/contains \*\/ to prove/);
    // Property descriptions are escaped by json-schema-to-typescript itself.
    expect(types).toContain("A property description with * / inside.");
    // No comment closes early: every "/**" is followed by exactly one "*/" before the next "/**".
    for (const chunk of types.split("/**").slice(1)) expect(chunk.split("*/").length, chunk.slice(0, 80)).toBe(2);
  });

  it("starts every file with the generated-code marker and no timestamp", () => {
    for (const [path, text] of files) {
      const first = text.split("\n")[0] ?? "";
      if (path === ".gitattributes") expect(first).toBe("# Code generated by openflow-spec. DO NOT EDIT.");
      else if (path.endsWith(".md") || path.endsWith(".html")) expect(first, path).toMatch(/^<!-- Code generated by openflow-spec from schemas\/.* DO NOT EDIT\. -->$/);
      // JSON has no comments: the marker is the first property.
      else if (path.endsWith(".json")) expect(text.split("\n")[1], path).toMatch(/^ {2}"x-generated": "Code generated by openflow-spec from schemas\/.* DO NOT EDIT\.",$/);
      else expect(first, path).toMatch(/^\/\/ Code generated by openflow-spec from schemas\/.* DO NOT EDIT\.$/);
      expect(text, path).not.toMatch(/\b20\d\d-\d\d-\d\dT\d\d:\d\d/);
    }
  });
});
