/** Runs every emitter and merges their outputs into one map (relative path under `generated/` -> contents). */
import type { SchemaFile } from "../load.js";
import type { SpecModel } from "../model.js";
import { emitValidators } from "./validators.js";
import { emitTypes } from "./types.js";
import { emitCommands } from "./commands.js";
import { emitClient } from "./client.js";
import { emitDocs, type Templates } from "./docs.js";
import { ID_BASE } from "../validate.js";

export async function emitAll(model: SpecModel, files: readonly SchemaFile[], templates: Templates): Promise<Map<string, string>> {
  const documents = new Map(files.map((f) => [ID_BASE + f.path, f.json] as const));
  const out = new Map<string, string>();
  const add = (files: Map<string, string>): void => {
    for (const [path, contents] of files) {
      if (out.has(path)) throw new Error(`two emitters produced ${path}`);
      out.set(path, contents);
    }
  };
  add(emitValidators(model, files));
  add(await emitTypes(model, documents));
  add(emitCommands(model));
  add(emitClient(model));
  add(emitDocs(model, templates));
  return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
