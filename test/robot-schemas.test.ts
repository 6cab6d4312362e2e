/**
 * The robot command schemas (schemas/robot/, docs/protocol.md#robot-commands): each file's examples validate with the
 * generated validator, and derived mutations fail (each required field dropped, `command` changed, each typed field
 * given a value of the wrong type). They are bodies inside queuemessage data, not wire commands: the 80 command
 * files stay 80, and no robot command is a command string of the spec.
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { robotValidators } from "../generated/validators.js";
import { robotCommands } from "../generated/commands.js";
import { isKnownCommand, knownRobotCommands, validateRobotCommand } from "../runtime/validate.js";
import { GeneratorError } from "../generator/errors.js";
import { lintSchemas } from "../generator/lint.js";
import { loadFromTexts, loadSchemas } from "../generator/load.js";
import { validateSchemas } from "../generator/validate.js";

interface RobotFile {
  title: string;
  required: string[];
  properties: Record<string, { type?: string | string[]; const?: string }>;
  examples: Record<string, unknown>[];
  "x-openflow": { robotCommand: string; sender: string; stage: string; sources: { url: string }[] };
}

const names = readdirSync("schemas/robot").filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)).sort();
const file = (name: string): RobotFile => JSON.parse(readFileSync(`schemas/robot/${name}.json`, "utf8")) as RobotFile;

/** A value of a JSON type other than every type the field allows. */
function wrongValue(types: string[]): unknown {
  const candidates: [string, unknown][] = [["number", 42.5], ["boolean", true], ["array", [1]], ["object", { x: 1 }], ["string", "text"]];
  const found = candidates.find(([t]) => !types.includes(t) && !(t === "number" && types.includes("integer")));
  return found?.[1];
}

describe("robot command schemas", () => {
  it("are separate from the wire commands: 80 command files, 13 robot commands, none of them a wire command string of its own", () => {
    expect(readdirSync("schemas/commands").filter((f) => f.endsWith(".json"))).toHaveLength(80);
    expect(names).toEqual(knownRobotCommands());
    expect(names).toEqual(Object.keys(robotCommands).sort());
    expect(names).toEqual(expect.arrayContaining(["invoke", "invokesuccess", "invokecompleted", "invokefailed", "invokeaborted", "detector", "killworkflow", "killallworkflows", "timeout", "error"]));
    // `error` is both a wire command and a robot command; the others exist only inside queuemessage data.
    expect(names.filter((n) => isKnownCommand(n))).toEqual(["error"]);
  });

  for (const name of names) {
    describe(name, () => {
      const doc = file(name);
      const validate = robotValidators[name];

      it("has a validator, a sender, a stage and pinned source links", () => {
        expect(validate).toBeTypeOf("function");
        expect(doc["x-openflow"].robotCommand).toBe(name);
        expect(doc.properties.command?.const).toBe(name);
        for (const s of doc["x-openflow"].sources) expect(s.url).toMatch(/^https:\/\/github\.com\/open-rpa\/(openrpa|openflow)\/blob\/[0-9a-f]{40}\/.+#L\d+(-L\d+)?$/);
      });

      it("accepts its examples", () => {
        expect(doc.examples.length).toBeGreaterThan(0);
        for (const example of doc.examples) expect(validateRobotCommand(example)).toEqual([]);
      });

      it("rejects each required field dropped, another command, and wrong types", () => {
        const base = doc.examples[0] as Record<string, unknown>;
        for (const field of doc.required) {
          const { [field]: _dropped, ...rest } = base;
          if (field === "command") {
            expect(validate?.(rest)).toBe(false);
          } else {
            const issues = validateRobotCommand(rest) ?? [];
            expect(issues.map((i) => i.keyword)).toContain("required");
          }
        }
        expect(validate?.({ ...base, command: `${name}x` })).toBe(false);
        for (const [field, schema] of Object.entries(doc.properties)) {
          if (schema.type === undefined) continue;
          const types = Array.isArray(schema.type) ? schema.type : [schema.type];
          const wrong = wrongValue(types);
          const issues = validateRobotCommand({ ...base, [field]: wrong }) ?? [];
          expect(issues.map((i) => i.pointer), `${name}.${field} = ${JSON.stringify(wrong)}`).toContain(`/${field}`);
        }
      });
    });
  }

  it("invoke needs a non-empty workflowid (the robot ignores an invoke without one)", () => {
    expect(validateRobotCommand({ command: "invoke", workflowid: "" })?.map((i) => i.keyword)).toEqual(["minLength"]);
    expect(validateRobotCommand({ command: "invoke", workflowid: "wf", data: "not an object" })?.map((i) => i.pointer)).toEqual(["/data"]);
    expect(validateRobotCommand({ command: "ship", order: 1 })).toBeUndefined();
  });

  it("the generator refuses a robot file that breaks its meta-schema, names it and the pointer", async () => {
    const loaded = await loadSchemas("schemas");
    const texts = new Map(loaded.files.map((f) => [f.path, JSON.stringify(f.json)] as const));
    const invoke = JSON.parse(texts.get("robot/invoke.json") as string) as Record<string, any>;
    const cases: [string, (doc: Record<string, any>) => void, string][] = [
      ["robot/invoke.json", (d) => (d["x-openflow"].robotCommand = "invokes"), "/x-openflow/robotCommand"],
      ["robot/invoke.json", (d) => (d["x-openflow"].sender = "someone"), "/x-openflow/sender"],
      ["robot/invoke.json", (d) => delete d["x-openflow"].sources, "/x-openflow"],
      ["robot/invoke.json", (d) => (d.properties.command.const = "run"), "/properties/command/const"],
    ];
    for (const [path, change, pointer] of cases) {
      const doc = structuredClone(invoke);
      change(doc);
      const broken = new Map(texts);
      broken.set(path, JSON.stringify(doc));
      let error: unknown;
      try {
        validateSchemas(loadFromTexts(broken));
      } catch (err) {
        error = err;
      }
      expect(error, pointer).toBeInstanceOf(GeneratorError);
      expect((error as GeneratorError).issues.map((i) => [i.file, i.pointer])).toContainEqual([path, pointer]);
    }
    // The lint rules cover robot files too: an undescribed property is named.
    const doc = structuredClone(invoke);
    doc.properties.extra = { type: "string" };
    const undescribed = new Map(texts);
    undescribed.set("robot/invoke.json", JSON.stringify(doc));
    expect(lintSchemas(validateSchemas(loadFromTexts(undescribed))).map((i) => [i.rule, i.file, i.pointer])).toEqual([["property-description", "robot/invoke.json", "/properties/extra"]]);
  });
});
