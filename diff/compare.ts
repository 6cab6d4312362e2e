/**
 * Compares one subschema of the base tree with the same subschema of the head tree and reports each difference
 * as a rule of ./rules.ts, with the path of the value inside the payload. It says only whether the head accepts
 * more (a widening), fewer (a narrowing) or different values; ./spec.ts turns that into clients and servers.
 * Properties, items, additionalProperties, contentSchema (JSON inside a string) and oneOf/anyOf alternatives are
 * followed recursively, through `$ref`s, with a guard against reference cycles.
 */
import { escapePointerSegment } from "../generator/errors.js";
import type { RuleId } from "./rules.js";
import { canonical, canonicalSchema, effectiveTypes, formatLoc, formatTypes, shapeOf, type Loc, type SchemaIndex, type SchemaNode, type Shape, type TypeAtom } from "./schema.js";

/** One difference between base and head. */
export interface Change {
  readonly rule: RuleId;
  /** Where in the payload: `/result/[]/name`; `[]` = any array item, `*` = any other field, `{json}` = inside JSON text. */
  readonly path: string;
  /** The subschema that changed (in the head tree, or in the base tree when it is gone). */
  readonly loc: Loc;
  readonly message: string;
}

export interface CompareContext {
  readonly before: SchemaIndex;
  readonly after: SchemaIndex;
  readonly emit: (change: Change) => void;
}

const LOWER_BOUNDS = new Set(["minLength", "minItems", "minProperties", "minimum", "exclusiveMinimum", "minContains"]);
const UPPER_BOUNDS = new Set(["maxLength", "maxItems", "maxProperties", "maximum", "exclusiveMaximum", "maxContains"]);
/** Recursion bound: deeper than this, schemas are compared as text (no real payload nests this far). */
const MAX_DEPTH = 48;

function subset(a: ReadonlySet<TypeAtom> | undefined, b: ReadonlySet<TypeAtom> | undefined): boolean {
  if (b === undefined) return true;
  if (a === undefined) return b.size === 7;
  return [...a].every((t) => b.has(t));
}

function overlaps(a: ReadonlySet<TypeAtom> | undefined, b: ReadonlySet<TypeAtom> | undefined): boolean {
  if (a === undefined || b === undefined) return true;
  return [...a].some((t) => b.has(t));
}

const field = (path: string, name: string): string => `${path}/${escapePointerSegment(name)}`;
const list = (values: Iterable<string>): string => [...values].join(", ");

/** Compares base nodes `a` with head nodes `b` (each a conjunction) at payload path `path`. */
export function compareSchemas(a: readonly SchemaNode[], b: readonly SchemaNode[], ctx: CompareContext, path = ""): void {
  walk(a, b, ctx, path, new Set(), 0);
}

function walk(a: readonly SchemaNode[], b: readonly SchemaNode[], ctx: CompareContext, path: string, stack: Set<string>, depth: number): void {
  const key = `${a.map((n) => formatLoc(n.loc)).join("&")}|${b.map((n) => formatLoc(n.loc)).join("&")}`;
  if (stack.has(key)) return; // the same pair again below itself: a recursive schema, already being compared
  const sa = shapeOf(a, ctx.before);
  const sb = shapeOf(b, ctx.after);
  const loc = b.length > 0 ? sb.loc : sa.loc;
  const emit = (rule: RuleId, message: string, at: Loc = loc, where = path): void => ctx.emit({ rule, path: where, loc: at, message });
  if (depth > MAX_DEPTH) {
    if (canonicalSchema(a.map((n) => n.schema)) !== canonicalSchema(b.map((n) => n.schema))) emit("KEYWORD_CHANGED", "schema changed below the comparison depth limit");
    return;
  }
  stack.add(key);
  const next = (x: readonly SchemaNode[], y: readonly SchemaNode[], where: string): void => {
    if (x.length > 0 || y.length > 0) walk(x, y, ctx, where, stack, depth + 1);
  };

  compareTypes(sa, sb, ctx, emit);
  compareValues(sa, sb, emit);
  compareProperties(sa, sb, ctx, path, emit, next);
  if (!sa.closed && sb.closed) emit("ADDITIONAL_PROPERTIES_CLOSED", "unlisted fields are now refused");
  if (sa.closed && !sb.closed) emit("ADDITIONAL_PROPERTIES_OPENED", "unlisted fields are now accepted");
  next(sa.additional, sb.additional, `${path}/*`);
  next(sa.items, sb.items, `${path}/[]`);
  next(sa.content, sb.content, `${path}/{json}`);
  compareConstraints(sa, sb, emit);
  for (const k of new Set([...sa.opaque.keys(), ...sb.opaque.keys()])) {
    const x = sa.opaque.get(k);
    const y = sb.opaque.get(k);
    if (canonical(x) !== canonical(y)) emit("KEYWORD_CHANGED", `${k} ${x === undefined ? "added" : y === undefined ? "removed" : "changed"}`);
  }
  compareGroups(sa, sb, ctx, path, emit, next);
  compareConditionals(sa, sb, emit, path, next);
  stack.delete(key);
}

type Emit = (rule: RuleId, message: string, at?: Loc, where?: string) => void;
type Next = (x: readonly SchemaNode[], y: readonly SchemaNode[], where: string) => void;

function compareTypes(sa: Shape, sb: Shape, ctx: CompareContext, emit: Emit): void {
  const ta = effectiveTypes(sa, ctx.before);
  const tb = effectiveTypes(sb, ctx.after);
  const narrower = subset(tb, ta);
  const wider = subset(ta, tb);
  if (narrower && wider) return;
  const message = `type ${formatTypes(ta)} → ${formatTypes(tb)}`;
  emit(narrower ? "TYPE_NARROWED" : wider ? "TYPE_WIDENED" : "TYPE_CHANGED", message);
}

function compareValues(sa: Shape, sb: Shape, emit: Emit): void {
  if (sa.values === undefined && sb.values === undefined) return;
  if (sa.values === undefined) return emit("VALUES_RESTRICTED", `now limited to ${list(sb.values!)}`);
  if (sb.values === undefined) return emit("VALUES_UNRESTRICTED", `no longer limited to ${list(sa.values)}`);
  const removed = [...sa.values].filter((v) => !sb.values!.has(v));
  const added = [...sb.values].filter((v) => !sa.values!.has(v));
  if (removed.length > 0) emit("ENUM_VALUE_REMOVED", `value${removed.length > 1 ? "s" : ""} ${list(removed)} no longer allowed`);
  if (added.length > 0) emit("ENUM_VALUE_ADDED", `value${added.length > 1 ? "s" : ""} ${list(added)} now allowed`);
}

function compareProperties(sa: Shape, sb: Shape, ctx: CompareContext, path: string, emit: Emit, next: Next): void {
  const names = new Set([...sa.properties.keys(), ...sa.required, ...sb.properties.keys(), ...sb.required]);
  for (const name of [...names].sort()) {
    const where = field(path, name);
    const pa = sa.properties.get(name);
    const pb = sb.properties.get(name);
    const ra = sa.required.has(name);
    const rb = sb.required.has(name);
    const locA = pa?.[0]?.loc ?? sa.loc;
    const locB = pb?.[0]?.loc ?? sb.loc;
    const known = pa !== undefined || ra;
    const knownAfter = pb !== undefined || rb;
    if (known && !knownAfter) {
      emit(sb.closed ? "CLOSED_FIELD_REMOVED" : "FIELD_REMOVED", `field ${JSON.stringify(name)} removed${ra ? " (it was required)" : ""}`, locA, where);
      continue;
    }
    if (!known && knownAfter) {
      if (rb) emit("FIELD_BECAME_REQUIRED", `new required field ${JSON.stringify(name)}`, locB, where);
      else emit("FIELD_ADDED", `new optional field ${JSON.stringify(name)}`, locB, where);
      continue;
    }
    if (!ra && rb) emit("FIELD_BECAME_REQUIRED", `field ${JSON.stringify(name)} is now required`, locB, where);
    if (ra && !rb) emit("FIELD_BECAME_OPTIONAL", `field ${JSON.stringify(name)} is no longer required`, locB, where);
    if (pa !== undefined && pb !== undefined) {
      if (!shapeOf(pa, ctx.before).deprecated && shapeOf(pb, ctx.after).deprecated) emit("FIELD_DEPRECATED", `field ${JSON.stringify(name)} is now deprecated`, locB, where);
      next(pa, pb, where);
    } else if (pa !== undefined || pb !== undefined) {
      // described on one side only (the other only lists it as required): any value vs the description
      next(pa ?? [], pb ?? [], where);
    }
  }
}

function compareConstraints(sa: Shape, sb: Shape, emit: Emit): void {
  for (const k of new Set([...sa.constraints.keys(), ...sb.constraints.keys()])) {
    const x = sa.constraints.get(k);
    const y = sb.constraints.get(k);
    if (canonical(x) === canonical(y)) continue;
    const shown = (v: string[] | undefined): string => (v === undefined ? "none" : v.join(" and "));
    const message = `${k} ${shown(x)} → ${shown(y)}`;
    if (x === undefined) emit(k === "uniqueItems" && y?.[0] === "false" ? "CONSTRAINT_LOOSENED" : "CONSTRAINT_TIGHTENED", message);
    else if (y === undefined) emit(k === "uniqueItems" && x[0] === "false" ? "CONSTRAINT_TIGHTENED" : "CONSTRAINT_LOOSENED", message);
    else if (x.length === 1 && y.length === 1 && (LOWER_BOUNDS.has(k) || UPPER_BOUNDS.has(k) || k === "uniqueItems")) {
      const before = Number(JSON.parse(x[0]!));
      const after = Number(JSON.parse(y[0]!));
      const stricter = LOWER_BOUNDS.has(k) || k === "uniqueItems" ? after > before : after < before;
      emit(stricter ? "CONSTRAINT_TIGHTENED" : "CONSTRAINT_LOOSENED", message);
    } else emit("CONSTRAINT_CHANGED", message);
  }
}

/** A variant's identity for matching: its types, allowed values and title. */
function signature(node: SchemaNode, index: SchemaIndex): string {
  const shape = shapeOf([node], index);
  const title = typeof (node.schema as { title?: unknown } | undefined)?.title === "string" ? (node.schema as { title: string }).title : "";
  return canonical([formatTypes(effectiveTypes(shape, index)), shape.values ? [...shape.values].sort() : null, title]);
}

function compareGroups(sa: Shape, sb: Shape, ctx: CompareContext, path: string, emit: Emit, next: Next): void {
  const count = Math.max(sa.groups.length, sb.groups.length);
  for (let g = 0; g < count; g++) {
    const ga = sa.groups[g];
    const gb = sb.groups[g];
    if (ga === undefined || gb === undefined || ga.kind !== gb.kind) {
      const what = ga === undefined ? `${gb!.kind} added` : gb === undefined ? `${ga.kind} removed` : `${ga.kind} became ${gb.kind}`;
      emit("KEYWORD_CHANGED", what, gb?.loc ?? ga!.loc);
      if (ga === undefined || gb === undefined) continue;
    }
    const sigA = ga.variants.map((v) => signature(v, ctx.before));
    const sigB = gb.variants.map((v) => signature(v, ctx.after));
    const pairs: [number, number][] = [];
    const freeA = new Set(ga.variants.keys());
    const freeB = new Set(gb.variants.keys());
    for (const i of [...freeA]) {
      const j = [...freeB].find((k) => sigB[k] === sigA[i]);
      if (j !== undefined) {
        pairs.push([i, j]);
        freeA.delete(i);
        freeB.delete(j);
      }
    }
    const typesOf = (node: SchemaNode, index: SchemaIndex): Set<TypeAtom> | undefined => effectiveTypes(shapeOf([node], index), index);
    for (const i of [...freeA]) {
      // then alternatives that can hold the same JSON types (an edited alternative keeps its type)
      const ti = typesOf(ga.variants[i]!, ctx.before);
      const j = [...freeB].find((k) => overlaps(ti, typesOf(gb.variants[k]!, ctx.after)));
      if (j !== undefined) {
        pairs.push([i, j]);
        freeA.delete(i);
        freeB.delete(j);
      }
    }
    if (freeA.size === freeB.size) {
      // same number left over: the same alternatives, edited in place
      const rest = [...freeB];
      [...freeA].forEach((i, n) => pairs.push([i, rest[n]!]));
      freeA.clear();
      freeB.clear();
    }
    // An alternative whose types are all new (or all gone) is already reported as TYPE_WIDENED (TYPE_NARROWED).
    const ta = effectiveTypes(sa, ctx.before);
    const tb = effectiveTypes(sb, ctx.after);
    for (const i of freeA) {
      const t = typesOf(ga.variants[i]!, ctx.before);
      if (t === undefined || overlaps(t, tb)) emit("VARIANT_REMOVED", `${ga.kind} alternative ${i} (${formatTypes(t)}) removed`, ga.variants[i]!.loc);
    }
    for (const j of freeB) {
      const t = typesOf(gb.variants[j]!, ctx.after);
      if (t === undefined || overlaps(t, ta)) emit("VARIANT_ADDED", `${gb.kind} alternative ${j} (${formatTypes(t)}) added`, gb.variants[j]!.loc);
    }
    for (const [i, j] of pairs.sort((x, y) => x[1] - y[1])) next([ga.variants[i]!], [gb.variants[j]!], path);
  }
}

function compareConditionals(sa: Shape, sb: Shape, emit: Emit, path: string, next: Next): void {
  const count = Math.max(sa.conditionals.length, sb.conditionals.length);
  for (let c = 0; c < count; c++) {
    const ca = sa.conditionals[c];
    const cb = sb.conditionals[c];
    if (ca === undefined || cb === undefined) {
      emit("KEYWORD_CHANGED", `if/then ${ca === undefined ? "added" : "removed"}`, (cb ?? ca)!.loc);
      continue;
    }
    if (ca.condition !== cb.condition) emit("KEYWORD_CHANGED", "if condition changed", cb.loc);
    next(ca.then, cb.then, path);
    next(ca.else, cb.else, path);
  }
}
