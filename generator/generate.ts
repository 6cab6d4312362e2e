/**
 * The generator pipeline, top to bottom: load -> validate -> model (names from naming.ts) -> emit -> write.
 * `generateFromLoaded` is pure: it takes the in-memory schemas and templates and returns the complete output as a
 * map of relative path -> contents. `generateFiles` adds the reading. Nothing is cached between runs.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { loadSchemas, type LoadedSchemas } from "./load.js";
import { validateSchemas } from "./validate.js";
import { buildModel, type SpecModel } from "./model.js";
import { emitAll } from "./emit/index.js";
import { TEMPLATE_FILES, type Templates } from "./emit/docs.js";
import { GeneratorError } from "./errors.js";

export async function generateFromLoaded(
  loaded: LoadedSchemas,
  templates: Templates,
  options: { runtimeModule?: string } = {},
): Promise<{ model: SpecModel; files: Map<string, string> }> {
  const validated = validateSchemas(loaded);
  const model = buildModel(validated);
  const files = await emitAll(model, validated.files, validated.ajv, templates, options);
  return { model, files };
}

/** Reads the handlebars templates used for the docs. */
export async function loadTemplates(dir: string): Promise<Templates> {
  const templates = new Map<string, string>();
  for (const name of TEMPLATE_FILES) {
    try {
      templates.set(name, await readFile(join(dir, name), "utf8"));
    } catch (err) {
      throw new GeneratorError("load", [{ file: join(dir, name), pointer: "", message: `cannot read template: ${(err as Error).message}` }]);
    }
  }
  return templates;
}

export interface GenerateInput {
  schemasDir: string;
  templatesDir: string;
  /** Module the generated client imports the runtime types from (default `../runtime/symbols.js`; `openflow-spec` in an app). */
  runtimeModule?: string;
}

/** Reads schemas and templates and returns every generated file (relative path -> contents). */
export async function generateFiles(input: GenerateInput): Promise<Map<string, string>> {
  const loaded = await loadSchemas(input.schemasDir);
  const templates = await loadTemplates(input.templatesDir);
  return (await generateFromLoaded(loaded, templates, input.runtimeModule === undefined ? {} : { runtimeModule: input.runtimeModule })).files;
}
