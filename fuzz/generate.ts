/**
 * Random steps from the schemas: for each allowed command, a valid request (drawn from its request schema with
 * fast-check, or one of its examples as a seed) or an invalid one (a required field dropped, a field of the wrong
 * type, an oversize value, an unknown field, a payload that is not an object). Fields that name what a request
 * touches (collections, queues, work-item queues) are pinned to the run's prefix, so a random request never
 * reaches data the fuzzer did not create; invalid variants never drop or damage those fields.
 */
import type fc from "fast-check";
import { draw, prng, schemaArbitrary } from "./arbitrary.js";
import type { SpecIndex, CommandSpecInfo } from "./spec.js";
import type { Step } from "./steps.js";
import { validatePayload } from "../runtime/validate.js";

/** The fields a random request may name, pinned to the prefix; a command not listed here is not sent at random. */
const PINS: Record<string, Record<string, unknown>> = {
  query: { collectionname: "${P}_data" },
  count: { collectionname: "${P}_data" },
  aggregate: { collectionname: "${P}_data" },
  distinct: { collectionname: "${P}_data" },
  getdocumentversion: { collectionname: "${P}_data" },
  insertone: { collectionname: "${P}_data" },
  insertmany: { collectionname: "${P}_data" },
  insertorupdateone: { collectionname: "${P}_data" },
  insertorupdatemany: { collectionname: "${P}_data" },
  updateone: { collectionname: "${P}_data" },
  updatemany: { collectionname: "${P}_data" },
  deleteone: { collectionname: "${P}_data" },
  deletemany: { collectionname: "${P}_data" },
  watch: { collectionname: "${P}_data" },
  listcollections: {},
  getworkitemqueue: { name: "${P}_wiq", _id: undefined },
  registerqueue: { queuename: "${P}_rq" },
  closequeue: { queuename: "${P}_rq" },
  queuemessage: { queuename: "${P}_nobody", exchangename: undefined, exchange: undefined, replyto: undefined, routingkey: undefined },
  addworkitemqueue: { name: "${P}_wiq", success_wiq: undefined, failed_wiq: undefined, success_wiqid: undefined, failed_wiqid: undefined, robotqueue: undefined, amqpqueue: undefined, workflowid: undefined, workitemqueue: undefined, _acl: undefined },
  addworkitem: { wiq: "${P}_wiq", wiqid: undefined, success_wiq: undefined, failed_wiq: undefined, success_wiqid: undefined, failed_wiqid: undefined },
  popworkitem: { wiq: "${P}_wiq", wiqid: undefined },
  createcollection: { collectionname: "${P}_created" },
  dropcollection: { collectionname: "${P}_created" },
};

/** The fields of PINS that must never be dropped or damaged (they keep a request on the fuzzer's own data). */
const TARGET_FIELDS = new Set(["collectionname", "queuename", "name", "wiq", "wiqid", "exchangename", "replyto"]);

/** Commands `fuzz` may send at random under the effect filters. */
export function randomCommands(spec: SpecIndex, allowed: (info: CommandSpecInfo) => boolean): string[] {
  return Object.keys(PINS).filter((c) => {
    const info = spec.commands.get(c);
    return info !== undefined && allowed(info);
  });
}

function withoutSystemFields(item: unknown): unknown {
  if (typeof item === "string") {
    try {
      return JSON.stringify(withoutSystemFields(JSON.parse(item)));
    } catch {
      return item;
    }
  }
  if (!item || typeof item !== "object" || Array.isArray(item)) return item;
  return Object.fromEntries(Object.entries(item).filter(([k]) => !k.startsWith("_") || k === "_type" || k === "_id"));
}

function pin(payload: Record<string, unknown>, command: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...payload };
  // `error` in a request is echoed by servers and would read as a failure; `jwt` would sign in as someone else.
  delete out.jwt;
  delete out.error;
  // Stored documents keep the server's defaults for the system fields: an `_acl` the fuzzer made up could take away
  // its own right to delete what it inserted (and the cleanup would leave it behind).
  for (const key of ["item", "items"]) {
    const v = out[key];
    if (Array.isArray(v)) out[key] = v.map(withoutSystemFields);
    else if (v !== undefined) out[key] = withoutSystemFields(v);
  }
  for (const [k, v] of Object.entries(PINS[command] ?? {})) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

function wrongValue(value: unknown): unknown {
  if (typeof value === "string") return 12345;
  if (typeof value === "number") return "not a number";
  if (typeof value === "boolean") return "yes";
  if (Array.isArray(value)) return "not an array";
  if (value && typeof value === "object") return 42;
  return ["unexpected"];
}

const arbitraries = new WeakMap<CommandSpecInfo, fc.Arbitrary<unknown>>();

/** The request arbitrary of a command, built once (building walks the schemas). */
function requestArbitrary(spec: SpecIndex, info: CommandSpecInfo): fc.Arbitrary<unknown> {
  let arb = arbitraries.get(info);
  if (!arb) arbitraries.set(info, (arb = schemaArbitrary(info.request, spec, `commands/${info.command}.json`)));
  return arb;
}

/** One random step for `command`; `seed` decides everything. */
export function randomStep(spec: SpecIndex, command: string, seed: number, options: { chunkSize?: number | undefined; invalid: boolean }): Step {
  const info = spec.commands.get(command) as CommandSpecInfo;
  const rand = prng(seed);
  const note = (what: string) => `random: ${command} ${what} (seed ${seed})`;
  let valid: Record<string, unknown> | undefined;
  const useExample = info.examples.length > 0 && rand() < 0.3;
  if (useExample) {
    valid = pin(info.examples[Math.floor(rand() * info.examples.length)] as Record<string, unknown>, command);
  } else if (info.request) {
    for (let attempt = 0; attempt < 5 && !valid; attempt++) {
      const drawn = draw(requestArbitrary(spec, info), seed + attempt * 7919);
      if (!drawn || typeof drawn !== "object" || Array.isArray(drawn)) continue;
      const pinned = pin(drawn as Record<string, unknown>, command);
      if (validatePayload(command, "request", pinned).length === 0) valid = pinned;
    }
  }
  valid ??= pin(info.examples[0] ?? {}, command);
  const base: Step = { as: 0, note: note(useExample ? "(example)" : "(generated)"), command, payload: valid, expect: "any", ...(options.chunkSize ? { chunkSize: options.chunkSize } : {}) };
  if (info.effect === "read" && typeof valid.collectionname === "string") base.readOf = valid.collectionname;
  if (!options.invalid) return base;

  const droppable = info.required.filter((f) => !TARGET_FIELDS.has(f) && f in valid);
  const present = Object.keys(valid).filter((f) => !TARGET_FIELDS.has(f) && valid[f] !== null && valid[f] !== undefined);
  const kinds = ["unknown-field", "not-an-object", "oversize"];
  if (droppable.length > 0) kinds.push("missing-required", "missing-required");
  if (present.length > 0) kinds.push("wrong-type");
  const kind = kinds[Math.floor(rand() * kinds.length)] as string;
  switch (kind) {
    case "missing-required": {
      const field = droppable[Math.floor(rand() * droppable.length)] as string;
      const payload = { ...valid };
      delete payload[field];
      return { ...base, note: note(`without required ${field}`), payload, expect: "error" };
    }
    case "wrong-type": {
      const field = present[Math.floor(rand() * present.length)] as string;
      // Servers coerce some values (a number for a string) and answer: only the reply's shape and the connection count.
      return { ...base, note: note(`with ${field} of the wrong type`), payload: { ...valid, [field]: wrongValue(valid[field]) }, expect: "any" };
    }
    case "not-an-object":
      return { ...base, note: note("with a payload that is not an object"), payload: [1, 2, 3], expect: info.required.length > 0 ? "error" : "any", readOf: undefined } as Step;
    case "oversize":
      // 100 000 characters, sent at the server's package size: within every documented limit, so the server must
      // answer (not close).
      return { ...base, note: note("with a 100 000-character value"), payload: { ...valid, ofsfuzz_big: "x".repeat(100_000) }, expect: "any", chunkSize: undefined } as Step;
    default:
      return { ...base, note: note("with an unknown field"), payload: { ...valid, ofsfuzz_unknown_field: { nested: [1, "two", null] } }, expect: "any" };
  }
}
