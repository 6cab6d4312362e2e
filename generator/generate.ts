/**
 * The generator pipeline, top to bottom: load -> validate -> lint -> model (names from naming.ts) -> emit -> write.
 * `generateFromLoaded` is pure: it takes the in-memory schemas and templates and returns the complete output as a
 * map of relative path -> contents. `generateFiles` adds the reading. Nothing is cached between runs.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { loadSchemas, type LoadedSchemas } from "./load.js";
import { ID_BASE, validateSchemas } from "./validate.js";
import { lintSchemas } from "./lint.js";
import { buildModel, type SpecModel } from "./model.js";
import { emitAll } from "./emit/index.js";
import { TEMPLATE_FILES, type Templates } from "./emit/docs.js";
import { GeneratorError } from "./errors.js";
import { emitAsyncApi, ASYNCAPI_FILE } from "./emit/asyncapi.js";

export async function generateFromLoaded(
  loaded: LoadedSchemas,
  templates: Templates,
  options: { runtimeModule?: string } = {},
): Promise<{ model: SpecModel; files: Map<string, string> }> {
  const validated = validateSchemas(loaded);
  const lint = lintSchemas(validated);
  if (lint.length > 0) throw new GeneratorError("lint", lint);
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

/**
 * The AsyncAPI document alone (what `generate` writes as generated/asyncapi.json), without running the other
 * emitters: load -> validate -> lint -> model -> asyncapi.
 */
export async function asyncApiDocument(schemasDir: string): Promise<string> {
  const validated = validateSchemas(await loadSchemas(schemasDir));
  const lint = lintSchemas(validated);
  if (lint.length > 0) throw new GeneratorError("lint", lint);
  const documents = new Map(validated.files.map((f) => [ID_BASE + f.path, f.json] as const));
  return emitAsyncApi(buildModel(validated), documents).get(ASYNCAPI_FILE) as string;
}
