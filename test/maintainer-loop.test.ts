/**
 * The maintainer guide's loop (docs/maintainers.md, "How a protocol maintainer adds a command"), run on a copy of
 * this repository's schemas: a proposed command that no implementation has yet is added by the guide's steps
 * without a source, lint and generate pass, and the docs show it as proposed with its predictable method name.
 * And lint's report: every problem of a run at once, with did-you-mean.
 */
import { cp, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main as lintMain } from "../cli/lint.js";
import { main as generateMain } from "../cli/generate.js";
import { methodName } from "../generator/naming.js";
import { captureIo, ROOT, tempDir } from "./fixtures/generator/helpers.js";

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const LABELS = ["api-2021", "api-latest", "server-2021", "server-latest", "openrpa-2021", "openrpa-latest"];

/** Steps 1 and 2 of the guide: copy query.json, name the file after the command, fill it in as a proposal. */
async function addProposed(schemas: string, command: string): Promise<Doc> {
  const doc = JSON.parse(await readFile(join(schemas, "commands", "query.json"), "utf8")) as Doc;
  doc.$id = `https://openflow-spec.dev/schemas/commands/${command}.json`;
  doc.title = command;
  doc.description = "Proposed: count the documents of a collection grouped by _type (no server implements it yet).";
  const meta = doc["x-openflow"];
  meta.command = command;
  meta.purpose = "Count documents per _type (proposed)";
  meta.effect = "read";
  meta.proposed = true;
  meta.implementations = Object.fromEntries(LABELS.map((l) => [l, []]));
  delete meta.sources; // nothing to cite: no implementation has it
  meta.errors = [{ text: "collectionname is mandatory", proposed: true }];
  meta.notes = [{ text: "Proposed for the next server release; the reply shape may change.", proposed: true }];
  delete doc.deprecated;
  delete meta.deprecation;
  doc.$defs = {
    request: {
      title: "CountByTypeRequest",
      description: "Payload of a countbytype request.",
      type: "object",
      allOf: [{ $ref: "../defs/payload.json#/$defs/RequestCommon" }],
      required: ["collectionname"],
      properties: { collectionname: { type: "string", minLength: 1, description: "Collection name." } },
      examples: [{ collectionname: "entities" }],
    },
    reply: {
      title: "CountByTypeReply",
      description: "The request echoed plus `result`.",
      type: "object",
      allOf: [{ $ref: "../defs/payload.json#/$defs/ReplyCommon" }],
      properties: {
        collectionname: { type: "string", description: "Echoed collection name." },
        result: { type: "object", description: "Count per _type.", additionalProperties: { type: "integer", minimum: 0 } },
      },
      examples: [{ collectionname: "entities", result: { user: 3, role: 5 } }],
    },
  };
  meta.replyCommand = command;
  await writeFile(join(schemas, "commands", `${command}.json`), JSON.stringify(doc, null, 2));
  return doc;
}

describe("adding a proposed command by the maintainer guide", () => {
  it("lints and generates without a source; the docs say proposed; the method name is the documented one", async () => {
    const dir = await tempDir("proposed");
    const schemas = join(dir, "schemas");
    await cp(join(ROOT, "schemas"), schemas, { recursive: true });
    await addProposed(schemas, "countbytype");

    // Step 3: lint.
    const lint = captureIo();
    expect(await lintMain([schemas], lint.io), lint.out()).toBe(0);

    // Step 4: generate.
    const out = join(dir, "generated");
    const gen = captureIo();
    expect(await generateMain(["--schemas", schemas, "--templates", join(ROOT, "templates"), "--out", out], gen.io), gen.err()).toBe(0);
    const page = await readFile(join(out, "docs", "commands", "countbytype.md"), "utf8");
    expect(page).toContain("> **Proposed.**");
    expect(page).toContain("`collectionname is mandatory` (proposed)");
    expect(await readFile(join(out, "docs", "README.md"), "utf8")).toContain("[`countbytype`](commands/countbytype.md) (proposed)");
    // docs/maintainers.md: dictionary words of generator/naming.ts, each after the first capitalised.
    expect(methodName("countbytype")).toBe("countByType");
    expect(page).toContain("`countByType(payload, options?)`");
    expect(await readFile(join(out, "client.ts"), "utf8")).toContain("countByType(payload: CountByTypeRequest");
  }, 120_000);

  it("refuses a proposed command that claims an implementation", async () => {
    const dir = await tempDir("proposed-marked");
    const schemas = join(dir, "schemas");
    await cp(join(ROOT, "schemas"), schemas, { recursive: true });
    const doc = await addProposed(schemas, "countbytype");
    doc["x-openflow"].implementations["server-latest"] = ["yes"];
    doc["x-openflow"].sources = { "server-latest": [{ url: "https://github.com/open-rpa/openflow/blob/d9a48a2a2facbee4efa67b87f6573ce1852a0c3b/src/Messages/Message.ts#L1-L2", what: "invented" }] };
    await writeFile(join(schemas, "commands", "countbytype.json"), JSON.stringify(doc, null, 2));
    const lint = captureIo();
    expect(await lintMain([schemas], lint.io)).toBe(1);
    expect(lint.out()).toMatch(/countbytype\.json#\/x-openflow\/implementations\/server-latest: a proposed command has no implementation yet.*\[proposed-unimplemented\]/);
    expect(lint.out()).toMatch(/countbytype\.json#\/x-openflow\/sources: .*\[proposed-unimplemented\]/);
  }, 60_000);
});

describe("lint reports every problem of a run at once", () => {
  it("a misspelt keyword, a misspelt type, a misspelt metadata key and value, and a missing description, in four files", async () => {
    const dir = await tempDir("many");
    const schemas = join(dir, "schemas");
    await cp(join(ROOT, "schemas"), schemas, { recursive: true });
    const edit = async (name: string, change: (d: Doc) => void): Promise<void> => {
      const path = join(schemas, "commands", `${name}.json`);
      const d = JSON.parse(await readFile(path, "utf8")) as Doc;
      change(d);
      await writeFile(path, JSON.stringify(d, null, 2));
    };
    await edit("ping", (d) => {
      d.$defs.request.tpye = d.$defs.request.type;
      delete d.$defs.request.type;
    });
    await edit("pong", (d) => void (d.$defs.request.type = "strng"));
    await edit("count", (d) => {
      d["x-openflow"].purpse = d["x-openflow"].purpose;
      d["x-openflow"].direction = "c2";
    });
    await edit("query", (d) => void delete d.$defs.request.properties.collectionname.description);

    const io = captureIo();
    expect(await lintMain([schemas], io.io)).toBe(1);
    const out = io.out();
    expect(out).toMatch(/ping\.json#\/\$defs\/request\/tpye: unknown keyword "tpye" .*\(did you mean "type"\?\)/);
    expect(out).toMatch(/pong\.json#\/\$defs\/request\/type: .*\(did you mean "string"\?\)/);
    expect(out).toMatch(/count\.json#\/x-openflow: must NOT have additional property 'purpse' \(did you mean "purpose"\?\)/);
    expect(out).toMatch(/count\.json#\/x-openflow\/direction: .*\(did you mean "c2s"\?\)/);
    expect(out).toMatch(/query\.json#\/\$defs\/request\/properties\/collectionname: property "collectionname" has no description \[property-description\]/);
    // One line per problem: the misspelt type is said once, not three times (enum, type, anyOf).
    expect(out.match(/pong\.json/g)?.length).toBe(1);
    expect(out).toMatch(/openflow-spec lint: \d+ files, [5-9] problems\n$/);
  }, 60_000);
});
