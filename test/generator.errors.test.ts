/**
 * Broken schemas: every failure names the file and JSON pointer (or line/column), and a failed run leaves the
 * output directory exactly as it was.
 */
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { main } from "../cli/generate.js";
import { GeneratorError } from "../generator/errors.js";
import { loadFromTexts } from "../generator/load.js";
import { validateSchemas } from "../generator/validate.js";
import { captureIo, fixtureTexts, projectTemplates, readTree, tempDir, writeTree } from "./fixtures/generator/helpers.js";

type Break = (texts: Map<string, string>) => void;

function editJson(texts: Map<string, string>, path: string, edit: (doc: Record<string, any>) => void): void {
  const doc = JSON.parse(texts.get(path) ?? "null") as Record<string, any>;
  edit(doc);
  texts.set(path, JSON.stringify(doc, null, 2));
}

const cases: [string, { breakIt: Break; want: RegExp[] }][] = [
  [
    "invalid JSON reports file, line and column",
    {
      breakIt: (t) => t.set("commands/getthing.json", '{\n  "title": "getthing",\n  "description": "x",\n}\n'),
      want: [/commands\/getthing\.json:4:1: invalid JSON/],
    },
  ],
  [
    "meta-schema violation names the pointer and the missing property",
    {
      breakIt: (t) => editJson(t, "commands/getthing.json", (d) => delete d["x-openflow"].purpose),
      want: [/commands\/getthing\.json#\/x-openflow: must have required property 'purpose' \(meta-schema\)/],
    },
  ],
  [
    "meta-schema: deprecated without a reason",
    {
      breakIt: (t) => editJson(t, "commands/oldthing.json", (d) => delete d["x-openflow"].deprecation),
      want: [/commands\/oldthing\.json#\/x-openflow: must have required property 'deprecation'/],
    },
  ],
  [
    "title must equal the file name",
    {
      breakIt: (t) => editJson(t, "commands/getthing.json", (d) => (d["title"] = "getthings")),
      want: [/commands\/getthing\.json#\/title: must equal the file name "getthing"/],
    },
  ],
  [
    "unresolved $ref names the ref's pointer and the missing file",
    {
      breakIt: (t) => editJson(t, "commands/getthing.json", (d) => (d["$defs"].reply.properties.result.$ref = "../defs/missing.json")),
      want: [/commands\/getthing\.json#\/\$defs\/reply\/properties\/result\/\$ref: unresolved \$ref "\.\.\/defs\/missing\.json".*schemas\/defs\/missing\.json/],
    },
  ],
  [
    "unresolved $ref fragment",
    {
      breakIt: (t) => editJson(t, "commands/getthing.json", (d) => (d["$defs"].request.allOf[0].$ref = "../defs/payload.json#/$defs/Nope")),
      want: [/commands\/getthing\.json#\/\$defs\/request\/allOf\/0\/\$ref: unresolved \$ref.*has no schema at #\/\$defs\/Nope/],
    },
  ],
  [
    "two commands mapping to one method name",
    {
      breakIt: (t) => {
        for (const name of ["request", "requestcommand"]) {
          editJson(t, "commands/oldthing.json", () => undefined);
          const doc = JSON.parse(t.get("commands/oldthing.json") ?? "") as Record<string, any>;
          doc["$id"] = `https://openflow-spec.dev/schemas/commands/${name}.json`;
          doc["title"] = name;
          doc["x-openflow"].command = name;
          doc["$defs"].request.title = `${name}Req`;
          doc["$defs"].reply.title = `${name}Rep`;
          t.set(`commands/${name}.json`, JSON.stringify(doc));
        }
      },
      want: [/commands\/requestcommand\.json#\/title: method name "requestCommand" collides with the one of commands\/request\.json/],
    },
  ],
  [
    "two payloads with one type name",
    {
      breakIt: (t) => editJson(t, "commands/oldthing.json", (d) => (d["$defs"].request.title = "GetThingRequest")),
      want: [/commands\/oldthing\.json#\/\$defs\/request\/title: type name "GetThingRequest" collides/],
    },
  ],
  [
    "ajv strict mode: unknown keyword",
    {
      breakIt: (t) => editJson(t, "defs/thing.json", (d) => (d["properties"].name.maxLenght = 3)),
      want: [/defs\/thing\.json#\/properties\/name\/maxLenght: unknown keyword "maxLenght"/],
    },
  ],
  [
    "ajv strict mode: properties without type",
    {
      breakIt: (t) => editJson(t, "defs/thing.json", (d) => (d["properties"].tags.items = { properties: { a: {} } })),
      want: [/defs\/thing\.json#\/properties\/tags\/items: ajv strict compile failed: .*missing type "object" for keyword "properties"/],
    },
  ],
  [
    "ajv strict mode inside a command's request schema",
    {
      breakIt: (t) => editJson(t, "commands/getthing.json", (d) => (d["$defs"].request.properties.extra = { description: "x", required: ["a"] })),
      want: [/commands\/getthing\.json#\/\$defs\/request\/properties\/extra: ajv strict compile failed/],
    },
  ],
  [
    "ajv strict mode inside a contentSchema",
    {
      breakIt: (t) => editJson(t, "commands/getthing.json", (d) => (d["$defs"].request.properties.filter.oneOf[1].contentSchema.properties.kind = { minLength: 1 })),
      want: [/commands\/getthing\.json#\/\$defs\/request\/properties\/filter\/oneOf\/1\/contentSchema\/properties\/kind: ajv strict compile failed/],
    },
  ],
  [
    "format is refused with its location",
    {
      breakIt: (t) => editJson(t, "defs/thing.json", (d) => (d["properties"].name.format = "date-time")),
      want: [/defs\/thing\.json#\/properties\/name\/format: "format" is not supported/],
    },
  ],
  [
    "invalid JSON Schema keyword value",
    {
      breakIt: (t) => editJson(t, "defs/thing.json", (d) => (d["properties"].name.type = "text")),
      want: [/defs\/thing\.json#\/properties\/name\/type: invalid JSON Schema/],
    },
  ],
];

describe("broken schemas", () => {
  it.each(cases)("%s", async (_name, { breakIt, want }) => {
    const texts = await fixtureTexts("basic");
    breakIt(texts);

    // In memory: a typed GeneratorError whose issues name file and pointer.
    let error: unknown;
    try {
      validateSchemas(loadFromTexts(texts));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(GeneratorError);
    const message = (error as GeneratorError).message;
    for (const re of want) expect(message).toMatch(re);
    for (const issue of (error as GeneratorError).issues) {
      expect(issue.file).toMatch(/\.json$/);
      expect(issue.message.length).toBeGreaterThan(5);
    }

    // Through the CLI: exit 1, message on stderr, output directory untouched.
    const dir = await tempDir("broken");
    await writeTree(join(dir, "schemas"), texts);
    const out = join(dir, "generated");
    const before = new Map([["client.ts", "// previous output\n"], ["docs/README.md", "previous\n"]]);
    await writeTree(out, before);
    const cap = captureIo();
    const code = await main(["--schemas", join(dir, "schemas"), "--out", out, "--templates", join(import.meta.dirname, "../templates")], cap.io);
    expect(code).toBe(1);
    for (const re of want) expect(cap.err()).toMatch(re);
    expect(await readTree(out)).toEqual(before);
  });

  it("the fixture itself is valid (so each case above fails only for its own reason)", async () => {
    await projectTemplates();
    expect(() => validateSchemas(loadFromTexts(new Map()))).not.toThrow();
    const texts = await fixtureTexts("basic");
    expect(() => validateSchemas(loadFromTexts(texts))).not.toThrow();
  });
});
