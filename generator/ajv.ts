/**
 * The one ajv factory of the project. Everyone (generator, runtime tests, server, validate CLI) builds ajv through
 * this function so that strictness and formats are the same everywhere.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";

// ajv-formats is CommonJS; under NodeNext its default import is the module object in some setups.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020;

export interface CreateAjvOptions {
  /** Keep generated source so `ajv/dist/standalone` can emit it (used by the generator). */
  standalone?: boolean;
  /** Errors carry the failing schema (`parentSchema`): lint uses it for did-you-mean. */
  verbose?: boolean;
}

/** `new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true })` + ajv-formats + the `x-openflow` keyword. */
export function createAjv(options: CreateAjvOptions = {}): Ajv2020 {
  const ajv = new Ajv2020({
    strict: true,
    allowUnionTypes: true,
    allErrors: true,
    ...(options.standalone ? { code: { source: true, esm: true, lines: true } } : {}),
    ...(options.verbose ? { verbose: true } : {}),
  });
  addFormats(ajv);
  ajv.addKeyword({ keyword: "x-openflow", schemaType: "object" });
  return ajv;
}
