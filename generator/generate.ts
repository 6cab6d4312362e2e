/**
 * The generator pipeline, top to bottom: load -> validate -> model -> (name, inside model) -> emit -> write.
 * `generateFiles` is pure apart from reading the schemas; it returns the complete output as a map of relative path
 * to contents. Nothing is cached between runs.
 */
import { loadSchemas, type LoadedSchemas } from "./load.js";
import { validateSchemas } from "./validate.js";
import { buildModel, type SpecModel } from "./model.js";
import { emitAll } from "./emit/index.js";

/** Runs every phase except `write` on an in-memory schema set. */
export async function generateFromLoaded(loaded: LoadedSchemas): Promise<{ model: SpecModel; files: Map<string, string> }> {
  const validated = validateSchemas(loaded);
  const model = buildModel(validated);
  const files = await emitAll(model, validated.files);
  return { model, files };
}

/** Reads `schemasDir` and returns every generated file (relative path -> contents). */
export async function generateFiles(schemasDir: string): Promise<Map<string, string>> {
  return (await generateFromLoaded(await loadSchemas(schemasDir))).files;
}
