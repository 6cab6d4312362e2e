/** Runs every emitter and merges their outputs into one map (relative path under `generated/` -> contents). */
import type { SchemaFile } from "../load.js";
import type { SpecModel } from "../model.js";
import { emitValidators } from "./validators.js";

export function emitAll(model: SpecModel, files: readonly SchemaFile[]): Map<string, string> {
  const out = new Map<string, string>();
  const add = (files: Map<string, string>): void => {
    for (const [path, contents] of files) {
      if (out.has(path)) throw new Error(`two emitters produced ${path}`);
      out.set(path, contents);
    }
  };
  add(emitValidators(model, files));
  return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
