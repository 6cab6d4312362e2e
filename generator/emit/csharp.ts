/**
 * Emits the C# back end (`generated/csharp/*.cs`): one class per object shape, one enum per closed set of strings, and
 * the typed client surface `OpenFlowCommands` (an abstract class the hand-written runtime in csharp/runtime/ extends).
 *
 * Target: C# 7.2 (Debian's mono `mcs -langversion:7.2`, .NET Framework 4.6.2, netstandard2.0) and only the part of
 * Newtonsoft.Json that 6.0.8 (Debian) and 13.x (what OpenRPA robots load) share: `JsonProperty(name,
 * NullValueHandling)`, `JsonExtensionData`, `JsonConverter(typeof(...))`, `JToken`/`JObject`. Enum wire values are
 * kept with `[EnumMember(Value = "...")]` and read by the runtime's `WireEnumConverter` (tolerant: an unknown value
 * reads as null instead of failing the whole message).
 *
 * Naming (deterministic, no anonymous classes): a named schema (a def, a payload, a command file's `$defs` entry) keeps
 * its type name from the model; an inline object gets `<Parent><Property>`, an array's inline item
 * `<Parent><Property>Item`, an inline enum `<Parent><Property>`; a name already taken gets a counter (`2`, `3`, ...)
 * in schema order.
 *
 * Schema sets: the spec's defs and commands form the first set; every other top-level folder of the schemas
 * directory (e.g. `schemas/robot/`) becomes a set of its own, emitted to `csharp/<Folder>.cs` in the same namespace, so
 * a second message family needs no change here (its roots are each file's root shape and its titled `$defs` entries).
 */
import type { SchemaFile } from "../load.js";
import type { CommandModel, SpecModel } from "../model.js";
import { ID_BASE } from "../validate.js";
import { isObject, resolvePointer, resolveRef, type JsonObject } from "../walk.js";
import { pascalCase, typeNameFromTitle } from "../naming.js";
import { hasHandler, hasMethod } from "./client.js";
import { codeHeader } from "./header.js";

/** Namespace of every generated model; the client class lives in {@link CLIENT_NAMESPACE}. */
export const MODELS_NAMESPACE = "OpenFlowSpec.Models";
export const CLIENT_NAMESPACE = "OpenFlowSpec";
/** Members of the runtime's OpenFlowClient a generated method must not hide (a `Command` suffix is added instead). */
export const CSHARP_RESERVED_MEMBERS: ReadonlySet<string> = new Set([
  "ConnectAsync", "CloseAsync", "Dispose", "RequestAsync", "SendAsync", "On", "OnCommand", "Jwt", "User", "SigninAsync",
  "Equals", "GetHashCode", "GetType", "ToString", "MemberwiseClone", "Finalize",
]);
/** The property that keeps unknown wire fields (so replies round-trip what the schema does not list). */
const EXTENSION_PROPERTY = "ExtensionData";

const J = "global::Newtonsoft.Json";
const JTOKEN = `${J}.Linq.JToken`;
const JOBJECT = `${J}.Linq.JObject`;
const LIST = "global::System.Collections.Generic.List";
const DICT = "global::System.Collections.Generic.Dictionary";

/** A schema with a type name of its own (def, payload, local def, or a root of another schema set). */
interface NamedRoot {
  readonly typeName: string;
  readonly uri: string;
  readonly fragment: string;
  readonly schema: JsonObject;
  readonly obsolete?: string;
  /** The file that will hold it (`Defs`, `Commands`, or a folder name). */
  readonly set: string;
}

interface CsType {
  readonly name: string;
  /** Value types get `?` (every property may be absent on the wire). */
  readonly value: boolean;
}

interface PropertyDecl {
  readonly wire: string;
  readonly csName: string;
  readonly type: CsType;
  readonly description: string;
  readonly required: boolean;
  readonly obsolete?: string;
  /** Declared again in a base class with another type: emitted with `new`. */
  readonly hides: boolean;
}

interface ClassDecl {
  readonly kind: "class";
  readonly name: string;
  readonly description: string;
  readonly base?: string;
  readonly properties: PropertyDecl[];
  readonly obsolete?: string;
  readonly source: string;
  readonly set: string;
}

interface EnumDecl {
  readonly kind: "enum";
  readonly name: string;
  readonly description: string;
  readonly values: readonly string[];
  readonly members: readonly string[];
  readonly source: string;
  readonly set: string;
}

type Decl = ClassDecl | EnumDecl;

/** What a named schema turns into, decided before any class is written (so `$ref`s can point at it). */
type Shape = { kind: "class" } | { kind: "enum"; values: string[] } | { kind: "alias"; schema: JsonObject };

/** XML doc text: `&`, `<`, `>` escaped; one `///` line per input line. */
export function xmlDoc(text: string, indent: string, tag = "summary"): string {
  const escaped = text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const lines = escaped.split(/\r?\n/);
  return [`${indent}/// <${tag}>`, ...lines.map((l) => `${indent}/// ${l}`.trimEnd()), `${indent}/// </${tag}>`].join("\n") + "\n";
}

/** A C# string literal (regular, escaped). */
export function csString(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x2028 || code === 0x2029 || code === 0x85) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return out + '"';
}

const CSHARP_KEYWORDS = new Set(
  ("abstract as base bool break byte case catch char checked class const continue decimal default delegate do double else enum event explicit " +
    "extern false finally fixed float for foreach goto if implicit in int interface internal is lock long namespace new null object operator out " +
    "override params private protected public readonly ref return sbyte sealed short sizeof stackalloc static string struct switch this throw true " +
    "try typeof uint ulong unchecked unsafe ushort using virtual void volatile while").split(" "),
);

/** `websocket_package_size` -> `WebsocketPackageSize`, `traceId` -> `TraceId`, `_id` -> `Id`. */
export function pascalIdentifier(wire: string): string {
  const words = wire.split(/[^A-Za-z0-9]+/).filter(Boolean);
  let name = words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join("");
  if (name === "") name = "Value";
  if (/^[0-9]/.test(name)) name = `_${name}`;
  if (CSHARP_KEYWORDS.has(name)) name = `@${name}`;
  return name;
}

function typesOf(schema: JsonObject): string[] {
  const t = schema["type"];
  return Array.isArray(t) ? (t as string[]) : typeof t === "string" ? [t] : [];
}

function isNullOnly(schema: unknown): boolean {
  return isObject(schema) && typesOf(schema).length === 1 && typesOf(schema)[0] === "null" && !("$ref" in schema);
}

function nonNullBranches(schema: JsonObject, key: "anyOf" | "oneOf"): JsonObject[] {
  const list = schema[key];
  return Array.isArray(list) ? list.filter((b): b is JsonObject => isObject(b) && !isNullOnly(b)) : [];
}

function hasObjectSyntax(schema: JsonObject): boolean {
  return isObject(schema["properties"]) || (typesOf(schema).length === 1 && typesOf(schema)[0] === "object");
}

class CSharpEmitter {
  private readonly roots = new Map<string, NamedRoot>();
  private readonly shapes = new Map<string, Shape>();
  private readonly taken = new Set<string>();
  private readonly decls: Decl[] = [];
  /** Inline schemas already given a class, by identity (a schema reached twice keeps one name). */
  private readonly inline = new Map<JsonObject, string>();
  private readonly classes = new Map<string, ClassDecl>();

  constructor(private readonly documents: ReadonlyMap<string, unknown>) {}

  /** The type name a registered root ended up with. */
  nameOf(uri: string, fragment: string): string | undefined {
    return this.roots.get(`${uri}#${fragment}`)?.typeName;
  }

  register(root: NamedRoot): void {
    const key = `${root.uri}#${root.fragment}`;
    if (this.roots.has(key)) return;
    const name = this.claim(root.typeName);
    this.roots.set(key, { ...root, typeName: name });
  }

  /** Reserve a type name; a taken one gets a counter. */
  claim(wanted: string): string {
    let name = wanted;
    for (let i = 2; this.taken.has(name) || CSHARP_KEYWORDS.has(name) || name === "OpenFlowCommands"; i++) name = `${wanted}${i}`;
    this.taken.add(name);
    return name;
  }

  private deref(ref: string, fromUri: string): { uri: string; fragment: string; schema: JsonObject } | undefined {
    const target = resolveRef(ref, fromUri);
    const doc = this.documents.get(target.uri);
    if (doc === undefined) return undefined;
    const schema = resolvePointer(doc, target.fragment);
    return isObject(schema) ? { uri: target.uri, fragment: target.fragment, schema } : undefined;
  }

  /** Whether a schema is an object shape (a class), following `$ref`s and `anyOf`/`oneOf`/`allOf` branches. */
  private objectLike(schema: JsonObject, uri: string, depth = 0): boolean {
    if (depth > 16) return false;
    if (typeof schema["$ref"] === "string") {
      const t = this.deref(schema["$ref"], uri);
      return t !== undefined && this.objectLike(t.schema, t.uri, depth + 1);
    }
    if (hasObjectSyntax(schema)) return true;
    if (typesOf(schema).length > 0) return false;
    for (const key of ["anyOf", "oneOf"] as const) {
      const branches = nonNullBranches(schema, key);
      if (branches.length > 0) return branches.every((b) => this.objectLike(b, uri, depth + 1));
    }
    const all = schema["allOf"];
    return Array.isArray(all) && all.some((b) => isObject(b) && this.objectLike(b, uri, depth + 1));
  }

  private enumValues(schema: JsonObject): string[] | undefined {
    const values = schema["enum"];
    if (!Array.isArray(values)) return undefined;
    const strings = values.filter((v) => v !== null);
    if (strings.length === 0 || !strings.every((v) => typeof v === "string")) return undefined;
    return strings as string[];
  }

  private shapeOf(root: NamedRoot): Shape {
    const key = `${root.uri}#${root.fragment}`;
    let shape = this.shapes.get(key);
    if (!shape) {
      const values = this.enumValues(root.schema);
      shape = values ? { kind: "enum", values } : this.objectLike(root.schema, root.uri) || root.set === "Commands" ? { kind: "class" } : { kind: "alias", schema: root.schema };
      this.shapes.set(key, shape);
    }
    return shape;
  }

  /** Generate every registered root, then every inline class they reached. */
  run(): Decl[] {
    for (const root of [...this.roots.values()]) {
      const shape = this.shapeOf(root);
      if (shape.kind === "enum") this.addEnum(root.typeName, root.schema, shape.values, shortSource(root.uri), root.set, this.constNames(root.uri));
      else if (shape.kind === "class") this.addClass(root.typeName, root.schema, root.uri, root.set, root.obsolete);
    }
    return this.decls;
  }

  /** `$defs` entries of a file that are string constants, by value -> PascalCase key (names for enum members). */
  constNames(uri: string): Map<string, string> {
    const out = new Map<string, string>();
    const doc = this.documents.get(uri);
    const defs = isObject(doc) ? doc["$defs"] : undefined;
    if (!isObject(defs)) return out;
    for (const key of Object.keys(defs)) {
      const d = defs[key];
      if (isObject(d) && typeof d["const"] === "string" && !out.has(d["const"])) out.set(d["const"], pascalIdentifier(key).replace(/^@/, ""));
    }
    return out;
  }

  private addEnum(name: string, schema: JsonObject, values: readonly string[], source: string, set: string, known: ReadonlyMap<string, string> = new Map()): void {
    const used = new Set<string>();
    const members = values.map((v) => {
      let m = known.get(v) ?? pascalIdentifier(v).replace(/^@/, "");
      if (v === "") m = "Empty";
      let candidate = m;
      for (let i = 2; used.has(candidate) || candidate === name; i++) candidate = `${m}${i}`;
      used.add(candidate);
      return candidate;
    });
    this.decls.push({ kind: "enum", name, description: String(schema["description"] ?? schema["title"] ?? ""), values, members, source, set });
  }

  /** Collects the object's properties: its own, allOf parts after the base, anyOf/oneOf and then/else branches. */
  private addClass(name: string, schema: JsonObject, uri: string, set: string, obsolete: string | undefined): void {
    const decl: ClassDecl = {
      kind: "class",
      name,
      description: String(schema["description"] ?? schema["title"] ?? name),
      properties: [],
      source: shortSource(uri),
      set,
      ...(obsolete !== undefined ? { obsolete } : {}),
    };
    this.decls.push(decl);
    this.classes.set(name, decl);
    let base: string | undefined;
    const sources: { schema: JsonObject; uri: string; required: boolean; prefix: string }[] = [];
    const collect = (s: JsonObject, u: string, required: boolean, depth: number, top: boolean, prefix = ""): void => {
      if (depth > 16) return;
      if (typeof s["$ref"] === "string") {
        const t = this.deref(s["$ref"], u);
        if (!t) return;
        const named = this.roots.get(`${t.uri}#${t.fragment}`);
        if (named && this.shapeOf(named).kind === "class" && top && base === undefined && named.typeName !== name) {
          base = named.typeName;
          return;
        }
        collect(t.schema, t.uri, required, depth + 1, false, prefix);
        return;
      }
      sources.push({ schema: s, uri: u, required, prefix });
      const all = s["allOf"];
      if (Array.isArray(all)) all.forEach((b) => isObject(b) && collect(b, u, required, depth + 1, top, prefix));
      for (const key of ["anyOf", "oneOf"] as const) for (const b of nonNullBranches(s, key)) collect(b, u, false, depth + 1, false, prefix);
      // A then-branch guarded by `if: {properties: {command: {const: "x"}}}` names its inline shapes after "x".
      const guard = ifConst(s["if"]);
      for (const key of ["then", "else"] as const) {
        if (isObject(s[key])) collect(s[key] as JsonObject, u, false, depth + 1, false, key === "then" && guard !== undefined ? `${prefix}${guard}_` : prefix);
      }
    };
    collect(schema, uri, true, 0, true);
    if (base !== undefined) (decl as { base?: string }).base = base;
    const inherited = this.inheritedProperties(base);
    const byWire = new Map<string, { schemas: { schema: JsonObject; uri: string; prefix: string }[]; required: boolean; description: string; deprecated?: string }>();
    for (const src of sources) {
      const props = src.schema["properties"];
      if (!isObject(props)) continue;
      const required = new Set(Array.isArray(src.schema["required"]) ? (src.schema["required"] as string[]) : []);
      for (const wire of Object.keys(props)) {
        const p = props[wire];
        if (!isObject(p) && p !== true) continue;
        const ps = isObject(p) ? p : {};
        const entry = byWire.get(wire) ?? { schemas: [], required: false, description: "" };
        entry.schemas.push({ schema: ps, uri: src.uri, prefix: src.prefix });
        if (src.required && required.has(wire)) entry.required = true;
        if (entry.description === "" && typeof ps["description"] === "string") entry.description = ps["description"];
        if (ps["deprecated"] === true) entry.deprecated = typeof ps["x-deprecation"] === "string" ? ps["x-deprecation"] : "deprecated in the spec";
        byWire.set(wire, entry);
      }
    }
    const names = this.memberNames(name, [...byWire.keys()], inherited);
    for (const [wire, entry] of byWire) {
      const types = entry.schemas.map((s) => this.typeOf(s.schema, s.uri, name, `${s.prefix}${wire}`));
      let type = types[0] as CsType;
      if (types.some((t) => t.name !== type.name)) type = { name: JTOKEN, value: false };
      const parent = inherited.get(wire);
      if (parent && parent.type.name === type.name) continue;
      decl.properties.push({
        wire,
        csName: parent ? parent.csName : (names.get(wire) as string),
        type,
        description: entry.description,
        required: entry.required,
        hides: parent !== undefined,
        ...(entry.deprecated !== undefined ? { obsolete: entry.deprecated } : {}),
      });
    }
  }

  /** Every property a class inherits, by wire name. */
  private inheritedProperties(base: string | undefined): Map<string, PropertyDecl> {
    const out = new Map<string, PropertyDecl>();
    for (let b = base ? this.classes.get(base) : undefined; b; b = b.base ? this.classes.get(b.base) : undefined) {
      for (const p of b.properties) if (!out.has(p.wire)) out.set(p.wire, p);
    }
    return out;
  }

  /**
   * C# member names for wire names: PascalCase; a leading-underscore name that meets its plain twin (`_id` and `id`)
   * keeps one `_`; other clashes, the class's own name and `ExtensionData` get a counter.
   */
  private memberNames(className: string, wires: readonly string[], inherited: ReadonlyMap<string, PropertyDecl>): Map<string, string> {
    const used = new Set<string>([EXTENSION_PROPERTY, className, ...[...inherited.values()].map((p) => p.csName)]);
    const out = new Map<string, string>();
    const plain = new Set([...wires, ...inherited.keys()].filter((w) => !w.startsWith("_")).map((w) => pascalIdentifier(w)));
    for (const wire of wires) {
      if (inherited.has(wire)) continue;
      let wanted = pascalIdentifier(wire);
      if (wire.startsWith("_") && plain.has(wanted)) wanted = `_${wanted.replace(/^@/, "")}`;
      let candidate = wanted;
      for (let i = 2; used.has(candidate); i++) candidate = `${wanted}${i}`;
      used.add(candidate);
      out.set(wire, candidate);
    }
    return out;
  }

  /** The C# type of a property schema; inline objects and enums get named classes. */
  private typeOf(schema: JsonObject, uri: string, parent: string, property: string, depth = 0): CsType {
    if (depth > 16) return { name: JTOKEN, value: false };
    if (typeof schema["$ref"] === "string") {
      const t = this.deref(schema["$ref"], uri);
      if (!t) return { name: JTOKEN, value: false };
      const named = this.roots.get(`${t.uri}#${t.fragment}`);
      if (named) {
        const shape = this.shapeOf(named);
        if (shape.kind === "class") return { name: named.typeName, value: false };
        if (shape.kind === "enum") return { name: named.typeName, value: true };
        return this.typeOf(shape.schema, t.uri, named.typeName, "", depth + 1);
      }
      return this.typeOf(t.schema, t.uri, parent, property, depth + 1);
    }
    const values = this.enumValues(schema);
    if (values) return { name: this.inlineEnum(schema, values, uri, parent, property), value: true };
    if ("const" in schema) return scalar(typeof schema["const"]);
    for (const key of ["anyOf", "oneOf"] as const) {
      const branches = nonNullBranches(schema, key);
      if (branches.length === 0 || hasObjectSyntax(schema)) continue;
      const types = branches.map((b) => this.typeOf(b, uri, parent, property, depth + 1));
      const first = types[0] as CsType;
      return types.every((t) => t.name === first.name) ? first : { name: JTOKEN, value: false };
    }
    const types = typesOf(schema).filter((t) => t !== "null");
    if (types.length === 0) {
      if (this.objectLike(schema, uri)) return { name: this.inlineClass(schema, uri, parent, property), value: false };
      return { name: JTOKEN, value: false };
    }
    if (types.length > 1) return { name: JTOKEN, value: false };
    switch (types[0]) {
      case "string":
        return { name: "string", value: false };
      case "integer":
        return { name: "long", value: true };
      case "number":
        return { name: "double", value: true };
      case "boolean":
        return { name: "bool", value: true };
      case "array": {
        const items = schema["items"];
        if (!isObject(items)) return { name: `${LIST}<${JTOKEN}>`, value: false };
        const item = this.typeOf(items, uri, parent, `${property}_item`, depth + 1);
        return { name: `${LIST}<${item.name}${item.value ? "?" : ""}>`, value: false };
      }
      default: {
        if (isObject(schema["properties"]) || Array.isArray(schema["allOf"]) || Array.isArray(schema["anyOf"]) || Array.isArray(schema["oneOf"])) {
          return { name: this.inlineClass(schema, uri, parent, property), value: false };
        }
        const extra = schema["additionalProperties"];
        if (isObject(extra)) {
          const v = this.typeOf(extra, uri, parent, `${property}_value`, depth + 1);
          return { name: `${DICT}<string, ${v.name}${v.value ? "?" : ""}>`, value: false };
        }
        return { name: JOBJECT, value: false };
      }
    }
  }

  private inlineClass(schema: JsonObject, uri: string, parent: string, property: string): string {
    const known = this.inline.get(schema);
    if (known) return known;
    const name = this.claim(`${parent}${pascalIdentifier(property).replace(/^[@_]+/, "")}`);
    this.inline.set(schema, name);
    const set = this.classes.get(parent)?.set ?? "Defs";
    this.addClass(name, schema, uri, set, undefined);
    return name;
  }

  private inlineEnum(schema: JsonObject, values: string[], uri: string, parent: string, property: string): string {
    const known = this.inline.get(schema);
    if (known) return known;
    const name = this.claim(`${parent}${pascalIdentifier(property).replace(/^[@_]+/, "")}`);
    this.inline.set(schema, name);
    this.addEnum(name, schema, values, shortSource(uri), this.classes.get(parent)?.set ?? "Defs");
    return name;
  }
}

/** The string constant an `if` schema tests, e.g. `{"properties": {"command": {"const": "createindex"}}}` -> createindex. */
function ifConst(schema: unknown): string | undefined {
  if (!isObject(schema) || !isObject(schema["properties"])) return undefined;
  const props = schema["properties"];
  const keys = Object.keys(props);
  if (keys.length !== 1) return undefined;
  const p = props[keys[0] as string];
  return isObject(p) && typeof p["const"] === "string" ? p["const"] : undefined;
}

function scalar(type: string): CsType {
  if (type === "string") return { name: "string", value: false };
  if (type === "boolean") return { name: "bool", value: true };
  if (type === "number") return { name: "double", value: true };
  return { name: JTOKEN, value: false };
}

function shortSource(uri: string): string {
  return uri.startsWith(ID_BASE) ? `schemas/${uri.slice(ID_BASE.length)}` : uri;
}

function printClass(d: ClassDecl): string {
  let out = xmlDoc(d.description, "    ");
  out += `    /// <remarks>From ${d.source.replace(/&/g, "&amp;")}.</remarks>\n`;
  if (d.obsolete !== undefined) out += `    [global::System.Obsolete(${csString(d.obsolete)})]\n`;
  out += `    public partial class ${d.name}${d.base ? ` : ${d.base}` : ""}\n    {\n`;
  for (const p of d.properties) {
    out += xmlDoc(p.description === "" ? `The \`${p.wire}\` field.` : p.description, "        ");
    if (p.required) out += `        /// <remarks>Required by the spec.</remarks>\n`;
    if (p.obsolete !== undefined) out += `        [global::System.Obsolete(${csString(p.obsolete)})]\n`;
    out += `        [${J}.JsonProperty(${csString(p.wire)}, NullValueHandling = ${J}.NullValueHandling.Ignore)]\n`;
    out += `        public ${p.hides ? "new " : ""}${p.type.name}${p.type.value ? "?" : ""} ${p.csName} { get; set; }\n\n`;
  }
  if (!d.base) {
    out += `        /// <summary>Wire fields the spec does not list, kept so a message round-trips unchanged.</summary>\n`;
    out += `        [${J}.JsonExtensionData]\n`;
    out += `        public global::System.Collections.Generic.IDictionary<string, ${JTOKEN}> ${EXTENSION_PROPERTY} { get; set; }\n`;
  }
  return out.replace(/\n\n$/, "\n") + "    }\n";
}

function printEnum(d: EnumDecl): string {
  let out = xmlDoc(d.description === "" ? `Closed set of wire values (${d.source}).` : d.description, "    ");
  out += `    /// <remarks>From ${d.source}. Wire values are the EnumMember values; an unknown value reads as null.</remarks>\n`;
  out += `    [${J}.JsonConverter(typeof(global::OpenFlowSpec.WireEnumConverter))]\n`;
  out += `    public enum ${d.name}\n    {\n`;
  d.members.forEach((m, i) => {
    out += `        /// <summary>Wire value ${csString(d.values[i] as string).replace(/&/g, "&amp;").replace(/</g, "&lt;")}.</summary>\n`;
    out += `        [global::System.Runtime.Serialization.EnumMember(Value = ${csString(d.values[i] as string)})]\n`;
    out += `        ${m}${i < d.members.length - 1 ? "," : ""}\n`;
  });
  return out + "    }\n";
}

/** Named string constants of a def file (`WellknownIds.json` `$defs/admins` -> `WellknownIdsValues.Admins`). */
interface ConstantsDecl {
  readonly kind: "constants";
  readonly name: string;
  readonly description: string;
  readonly source: string;
  readonly set: string;
  readonly constants: readonly { name: string; value: string; description: string }[];
}

function printConstants(d: ConstantsDecl): string {
  let out = xmlDoc(d.description, "    ");
  out += `    /// <remarks>From ${d.source}.</remarks>\n    public static partial class ${d.name}\n    {\n`;
  out += d.constants.map((c) => `${xmlDoc(c.description, "        ")}        public const string ${c.name} = ${csString(c.value)};\n`).join("\n");
  return out + "    }\n";
}

function constantsOf(files: readonly SchemaFile[], taken: (name: string) => string): ConstantsDecl[] {
  const out: ConstantsDecl[] = [];
  for (const f of files.filter((x) => x.path.startsWith("defs/"))) {
    const doc = f.json;
    const defs = isObject(doc) ? doc["$defs"] : undefined;
    if (!isObject(doc) || !isObject(defs)) continue;
    const constants = Object.keys(defs)
      .filter((k) => isObject(defs[k]) && typeof (defs[k] as JsonObject)["const"] === "string")
      .map((k) => {
        const d = defs[k] as JsonObject;
        return { name: pascalIdentifier(k).replace(/^@/, ""), value: d["const"] as string, description: String(d["description"] ?? k) };
      });
    if (constants.length === 0) continue;
    const stem = f.path.slice("defs/".length, -".json".length);
    const title = typeNameFromTitle(typeof doc["title"] === "string" ? doc["title"] : stem);
    out.push({ kind: "constants", name: taken(`${title}Values`), description: `The named constants of ${f.path}: ${String(doc["description"] ?? title)}`, source: `schemas/${f.path}`, set: "Defs", constants });
  }
  return out;
}

function fileOf(decls: readonly (Decl | ConstantsDecl)[], header: string): string {
  const body = decls.map((d) => (d.kind === "class" ? printClass(d) : d.kind === "enum" ? printEnum(d) : printConstants(d))).join("\n");
  return `${header}// <auto-generated/>\n#pragma warning disable 612, 618\nnamespace ${MODELS_NAMESPACE}\n{\n${body}}\n`;
}

/** `query` -> `QueryAsync`, handler `watchevent` -> `OnWatchEvent`; a runtime member name gets `Command` inserted. */
export function csharpMethodName(command: string, handler: boolean): string {
  const word = pascalCase(command);
  const name = handler ? `On${word}` : `${word}Async`;
  if (!CSHARP_RESERVED_MEMBERS.has(name)) return name;
  return handler ? `${name}Command` : `${word}CommandAsync`;
}

function methodNameOf(c: CommandModel, handler: boolean): string {
  return csharpMethodName(c.name, handler);
}

function printClient(model: SpecModel, typeName: (c: CommandModel, kind: "request" | "reply") => string): string {
  const m = `global::${MODELS_NAMESPACE}`;
  let body = "";
  for (const c of model.commands) {
    if (!hasMethod(c) || !c.reply) continue;
    const req = `${m}.${typeName(c, "request")}`;
    const rep = `${m}.${typeName(c, "reply")}`;
    body += xmlDoc(`${c.description}\n\nSends \`${c.name}\`; completes with the \`${c.replyCommand ?? c.name}\` reply payload (schemas/${c.file}).`, "        ");
    body += `        /// <exception cref="OpenFlowException">The server answered an error, or timeout, cancellation, a closed connection.</exception>\n`;
    if (c.deprecated) body += `        [global::System.Obsolete(${csString(c.deprecation ?? "deprecated")})]\n`;
    body += `        public global::System.Threading.Tasks.Task<${rep}> ${methodNameOf(c, false)}(${req} request, global::System.Threading.CancellationToken cancellationToken = default(global::System.Threading.CancellationToken))\n`;
    body += `        {\n            return RequestAsync<${req}, ${rep}>(${csString(c.name)}, request, cancellationToken);\n        }\n\n`;
  }
  for (const c of model.commands) {
    if (!hasHandler(c)) continue;
    const req = `${m}.${typeName(c, "request")}`;
    const replyType = c.reply && c.replyExpected ? `${m}.${typeName(c, "reply")}` : undefined;
    const fn = replyType
      ? `global::System.Func<${req}, global::System.Threading.Tasks.Task<${replyType}>>`
      : `global::System.Action<${req}>`;
    body += xmlDoc(
      `${c.description}\n\nRegisters a handler for \`${c.name}\` messages the server starts. ${
        replyType ? "The handler's result becomes the reply payload." : "Nobody answers this command."
      } Dispose the result to remove the handler.`,
      "        ",
    );
    if (c.deprecated) body += `        [global::System.Obsolete(${csString(c.deprecation ?? "deprecated")})]\n`;
    body += `        public global::System.IDisposable ${methodNameOf(c, true)}(${fn} handler)\n`;
    body += replyType
      ? `        {\n            return OnCommand<${req}, ${replyType}>(${csString(c.name)}, handler);\n        }\n\n`
      : `        {\n            return OnCommand<${req}>(${csString(c.name)}, handler);\n        }\n\n`;
  }
  const task = "global::System.Threading.Tasks.Task";
  const ct = "global::System.Threading.CancellationToken";
  return (
    `${codeHeader("schemas/commands/*.json")}// <auto-generated/>\n#pragma warning disable 612, 618\nnamespace ${CLIENT_NAMESPACE}\n{\n` +
    xmlDoc("Typed methods for every OpenFlow command a client sends, and typed handler registration for every command the server\nstarts. The runtime's OpenFlowClient implements the three primitives.", "    ") +
    `    public abstract partial class OpenFlowCommands\n    {\n` +
    xmlDoc("Sends a request and completes with its reply payload, or fails with OpenFlowException.", "        ") +
    `        protected abstract ${task}<TReply> RequestAsync<TRequest, TReply>(string command, TRequest request, ${ct} cancellationToken) where TReply : class;\n\n` +
    xmlDoc("Registers a handler for a server-started command nobody answers.", "        ") +
    `        protected abstract global::System.IDisposable OnCommand<TRequest>(string command, global::System.Action<TRequest> handler) where TRequest : class;\n\n` +
    xmlDoc("Registers a handler for a server-started command whose result is sent back as the reply.", "        ") +
    `        protected abstract global::System.IDisposable OnCommand<TRequest, TReply>(string command, global::System.Func<TRequest, ${task}<TReply>> handler) where TRequest : class where TReply : class;\n\n` +
    body.replace(/\n\n$/, "\n") +
    `    }\n}\n`
  );
}

/** Top-level folders of the schemas directory that are not the command spec itself become extra schema sets. */
function extraSets(files: readonly SchemaFile[]): Map<string, SchemaFile[]> {
  const sets = new Map<string, SchemaFile[]>();
  for (const f of files) {
    const folder = f.path.includes("/") ? f.path.slice(0, f.path.indexOf("/")) : "";
    if (folder === "" || folder === "commands" || folder === "defs" || folder === "meta") continue;
    const list = sets.get(folder) ?? [];
    list.push(f);
    sets.set(folder, list);
  }
  return sets;
}

export function emitCSharp(model: SpecModel, files: readonly SchemaFile[]): Map<string, string> {
  const documents = new Map(files.map((f) => [ID_BASE + f.path, f.json] as const));
  const emitter = new CSharpEmitter(documents);
  if (model.frame) {
    emitter.register({ typeName: "Frame", uri: model.frame.schemaUri, fragment: "", schema: model.frame.schema, set: "Defs" });
  }
  for (const d of model.defs) {
    emitter.register({ typeName: d.typeName, uri: ID_BASE + d.file, fragment: d.pointer, schema: d.schema, set: "Defs" });
  }
  for (const c of model.commands) {
    const obsolete = c.deprecated ? (c.deprecation ?? "deprecated") : undefined;
    for (const d of c.localDefs) emitter.register({ typeName: d.typeName, uri: c.id, fragment: d.pointer, schema: d.schema, set: "Commands" });
    for (const p of [c.request, c.reply]) {
      if (!p) continue;
      emitter.register({ typeName: p.typeName, uri: c.id, fragment: p.pointer, schema: p.schema, set: "Commands", ...(obsolete !== undefined ? { obsolete } : {}) });
    }
  }
  const sets = extraSets(files);
  for (const [folder, list] of sets) {
    const setName = pascalIdentifier(folder);
    for (const f of list) {
      const doc = f.json;
      if (!isObject(doc)) continue;
      const uri = ID_BASE + f.path;
      const stem = f.path.slice(f.path.lastIndexOf("/") + 1, -".json".length);
      if (Object.keys(doc).some((k) => !["$schema", "$id", "title", "description", "$defs", "$comment", "examples"].includes(k))) {
        emitter.register({ typeName: typeNameFromTitle(typeof doc["title"] === "string" ? doc["title"] : stem), uri, fragment: "", schema: doc, set: setName });
      }
      const defs = doc["$defs"];
      if (isObject(defs)) {
        for (const key of Object.keys(defs).sort()) {
          const s = defs[key];
          if (isObject(s)) emitter.register({ typeName: typeNameFromTitle(typeof s["title"] === "string" ? s["title"] : key), uri, fragment: `/$defs/${key}`, schema: s, set: setName });
        }
      }
    }
  }
  const decls: (Decl | ConstantsDecl)[] = [...emitter.run(), ...constantsOf(files, (n) => emitter.claim(n))];
  const typeName = (c: CommandModel, kind: "request" | "reply"): string => {
    const p = kind === "request" ? c.request : c.reply;
    return emitter.nameOf(c.id, p?.pointer ?? "") ?? (p?.typeName as string);
  };
  const out = new Map<string, string>();
  const bySet = new Map<string, (Decl | ConstantsDecl)[]>();
  for (const d of decls) bySet.set(d.set, [...(bySet.get(d.set) ?? []), d]);
  for (const [set, list] of bySet) {
    const source = set === "Defs" ? "schemas/defs/*.json and schemas/frame.json" : set === "Commands" ? "schemas/commands/*.json" : `schemas/${[...sets.keys()].find((k) => pascalIdentifier(k) === set) ?? set}/*.json`;
    out.set(`csharp/${set}.cs`, fileOf(list, codeHeader(source)));
  }
  out.set("csharp/OpenFlowCommands.cs", printClient(model, typeName));
  return out;
}
