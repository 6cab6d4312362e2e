/**
 * Emits `generated/client.ts` with ts-morph structures: `class OpenFlowCommands` with one typed method per command a
 * client starts and gets a correlated reply for, and one typed handler registration per command a server starts.
 * Behaviour stays in the runtime: methods only call `core.request` / `core.onCommand` (runtime/symbols.ts).
 */
import {
  Scope,
  StructureKind,
  type MethodDeclarationStructure,
  type OptionalKind,
  type StatementStructures,
} from "ts-morph";
import type { CommandModel, SpecModel } from "../model.js";
import { isObject } from "../walk.js";
import { baseShape, documentFields } from "./types.js";
import { codeHeader } from "./header.js";
import { docText, printStatements } from "./tsmorph.js";

/** Commands that get a request method: started by the client and answered with a correlated reply. */
export function hasMethod(c: CommandModel): boolean {
  return c.direction !== "s2c" && c.replyExpected && c.reply !== undefined;
}

/** Commands that get an `on...` handler registration: started by the server. */
export function hasHandler(c: CommandModel): boolean {
  return c.direction !== "c2s";
}

/** A request whose schema requires nothing can be called without a payload. */
function payloadOptional(c: CommandModel): boolean {
  const s = c.request.schema;
  const required = Array.isArray(s["required"]) && s["required"].length > 0;
  const branches = ["anyOf", "oneOf", "allOf", "if", "$ref"].some((k) => {
    if (k !== "allOf") return k in s;
    // allOf with only the common payload fields does not add requirements
    return Array.isArray(s["allOf"]) && s["allOf"].some((p) => !(isObject(p) && typeof p["$ref"] === "string" && p["$ref"].endsWith("#/$defs/RequestCommon")));
  });
  return !required && !branches;
}

/** `$id` prefix of this repository's spec: its commands have a rendered reference page at REFERENCE_URL. */
const SPEC_ID_PREFIX = "https://openflow-spec.dev/schemas/";
const REFERENCE_URL = "https://github.com/openflow-spec/openflow-spec/blob/main/generated/docs/commands/";

/**
 * The hover's link: an absolute URL, since the client package ships neither schemas/ nor the docs (a relative
 * path leads nowhere from node_modules). A command of another spec (a server's own schemas, generated with
 * `--schemas`) links its schema file in that project instead.
 */
function seeAlso(c: CommandModel): string {
  return c.id.startsWith(SPEC_ID_PREFIX) ? `${REFERENCE_URL}${c.name}.md` : `schemas/${c.file}`;
}

function docsFor(c: CommandModel, summary: string): { description: string; tags: { tagName: string; text?: string }[] }[] {
  const tags: { tagName: string; text?: string }[] = [{ tagName: "see", text: seeAlso(c) }];
  if (c.deprecated) tags.push({ tagName: "deprecated", text: docText(c.deprecation ?? "deprecated") });
  return [{ description: docText(summary), tags }];
}

/** Where the generated client imports the runtime's types from: this repository's runtime, or a package name. */
export const DEFAULT_RUNTIME_MODULE = "../runtime/symbols.js";

export function emitClient(model: SpecModel, runtimeModule: string = DEFAULT_RUNTIME_MODULE): Map<string, string> {
  const usedTypes = new Set<string>();
  const methods: OptionalKind<MethodDeclarationStructure>[] = [];
  const base = baseShape(model);
  for (const c of model.commands) {
    if (!hasMethod(c) || !c.reply) continue;
    usedTypes.add(c.request.typeName);
    usedTypes.add(c.reply.typeName);
    const optional = payloadOptional(c);
    // Commands that carry stored documents take the document type as a parameter (MongoDB's Collection<T>).
    const docsIn = base ? documentFields(c.request.schema, c.request.schemaUri, base.schemaUri) : [];
    const docsOut = base ? documentFields(c.reply.schema, c.reply.schemaUri, base.schemaUri) : [];
    const generic = base !== undefined && docsIn.length + docsOut.length > 0;
    const fields = (list: readonly string[]): string => list.map((f) => JSON.stringify(f)).join(" | ");
    const payloadType = generic && docsIn.length > 0 ? `WithDocuments<${c.request.typeName}, ${fields(docsIn)}, EntityInput<T>>` : c.request.typeName;
    const replyType = generic && docsOut.length > 0 ? `WithDocuments<${c.reply.typeName}, ${fields(docsOut)}, Entity<T>>` : c.reply.typeName;
    if (generic) {
      usedTypes.add(base.typeName);
      if (docsIn.length > 0) ["WithDocuments", "EntityInput"].forEach((t) => usedTypes.add(t));
      if (docsOut.length > 0) ["WithDocuments", "Entity"].forEach((t) => usedTypes.add(t));
    }
    const docNote = generic ? `\n\n\`T\` is your document type: ${[...docsIn, ...docsOut].map((f) => `\`${f}\``).join(", ")} ${docsIn.length + docsOut.length > 1 ? "are" : "is"} typed by it.` : "";
    methods.push({
      name: c.methodName,
      docs: docsFor(c, `${c.description}\n\nSends \`${c.name}\`; resolves with the \`${c.replyCommand ?? c.name}\` reply payload.${docNote}`),
      typeParameters: generic ? [{ name: "T", constraint: "object", default: base.typeName }] : [],
      parameters: [
        { name: "payload", type: payloadType, ...(optional ? { initializer: "{}" } : {}) },
        { name: "options", type: "CallOptions", hasQuestionToken: true },
      ],
      returnType: `Promise<${replyType}>`,
      statements: [`return this.core.request(${JSON.stringify(c.name)}, payload, options) as Promise<${replyType}>;`],
    });
  }
  for (const c of model.commands) {
    if (!hasHandler(c)) continue;
    usedTypes.add(c.request.typeName);
    const returns = c.reply ? `${c.reply.typeName} | void` : "void";
    if (c.reply) usedTypes.add(c.reply.typeName);
    methods.push({
      name: c.handlerName,
      docs: docsFor(
        c,
        `${c.description}\n\nRegisters a handler for \`${c.name}\` frames the server starts. ${
          c.reply ? "The handler's return value becomes the reply payload." : "Nobody answers this command; the handler returns nothing."
        } Returns a function that removes the handler.`,
      ),
      parameters: [{ name: "handler", type: `PushHandler<${c.request.typeName}, ${returns}>` }],
      returnType: "() => void",
      statements: [`return this.core.onCommand(${JSON.stringify(c.name)}, (payload, context) => handler(payload as ${c.request.typeName}, context));`],
    });
  }
  const statements: StatementStructures[] = [
    {
      kind: StructureKind.ImportDeclaration,
      isTypeOnly: true,
      moduleSpecifier: runtimeModule,
      namedImports: ["CallOptions", "PushCore", "PushHandler", "RequestCore"],
    },
    {
      kind: StructureKind.ImportDeclaration,
      isTypeOnly: true,
      moduleSpecifier: "./types.js",
      namedImports: [...usedTypes].sort(),
    },
    {
      kind: StructureKind.Class,
      isExported: true,
      name: "OpenFlowCommands",
      docs: [
        "Typed methods for every OpenFlow command a client sends, and typed handler registration for every command the server\nstarts. Extend it (runtime/client.ts) or construct it around any object implementing RequestCore & PushCore.",
      ],
      ctors: [{ parameters: [{ name: "core", type: "RequestCore & PushCore", scope: Scope.Protected, isReadonly: true }] }],
      methods,
    },
  ];
  return new Map([["client.ts", printStatements("client.ts", codeHeader("schemas/commands/*.json"), statements)]]);
}
