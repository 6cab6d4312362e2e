/**
 * Emits `asyncapi.json`: the spec as an AsyncAPI 3.0 document, for the tools of that ecosystem (parser, Studio,
 * HTML/Markdown templates, Modelina for models in other languages, Microcks for mocks). Produced from the model
 * alone, deterministic.
 *
 * Mapping:
 * - one channel, `connection` (the websocket), holding every message; the websocket paths are server variables;
 * - one operation per command and direction, from the client's point of view (`send` for what the client starts,
 *   `receive` for what the server starts; `both` gives both), with its `reply` (the reply message plus the `error`
 *   message of server-latest's error style) where the command has a reply command;
 * - one message per payload (`<Title>`: `QueryRequest`, `QueryReply`), whose `payload` is the decoded `data` and
 *   whose `headers` are the other frame fields (`id`, `replyto`, `command`, `count`, `index`, ...), with the
 *   correlation through `id` (requests) and `replyto` (replies);
 * - JSON Schema 2020-12 becomes AsyncAPI's draft-07 based Schema Object: every shape is a component schema and
 *   every `$ref` points at one; `contentSchema` (JSON text inside a string) becomes `x-contentSchema`, converted the
 *   same way; `dependentRequired` becomes `dependencies`; `prefixItems` becomes tuple `items`;
 * - what AsyncAPI has no field for travels in `x-openflow` extensions: implementation marks, sources, errors,
 *   notes, deprecation reasons, the framing rules (`data` is JSON text, chunking by `count`/`index`).
 */
import type { CommandModel, DefModel, PayloadModel, SpecModel } from "../model.js";
import { ID_BASE } from "../validate.js";
import { isObject, resolvePointer, resolveRef, type JsonObject } from "../walk.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonMap = { [key: string]: Json };

/** Keywords whose value is one subschema / a list of subschemas / a map of subschemas (2020-12 names). */
const ONE = ["additionalProperties", "items", "not", "if", "then", "else", "contains", "propertyNames"] as const;
const LIST = ["allOf", "anyOf", "oneOf"] as const;
const MAP = ["properties", "patternProperties"] as const;
/** Dropped from component schemas: identity is the component's key, nested `$defs` are components of their own. */
const DROPPED = new Set(["$schema", "$id", "$defs", "$comment"]);

export const ASYNCAPI_FILE = "asyncapi.json";

interface Component {
  name: string;
  schema: JsonObject;
  /** Absolute `$id` of the file the schema sits in, for resolving its `$ref`s. */
  baseId: string;
}

class SchemaConverter {
  /** Absolute schema URI (`<file $id>` or `<file $id>#<pointer>`) -> component name. */
  private readonly names = new Map<string, string>();
  private readonly documents = new Map<string, unknown>();
  private readonly inlining = new Set<string>();

  constructor(components: readonly (Component & { uri: string })[], documents: ReadonlyMap<string, unknown>) {
    for (const c of components) this.names.set(c.uri, c.name);
    for (const [id, doc] of documents) this.documents.set(id, doc);
  }

  convert(node: unknown, baseId: string): Json {
    if (typeof node === "boolean") return node;
    if (!isObject(node)) return node as Json;
    const out: JsonMap = {};
    for (const [key, value] of Object.entries(node)) {
      if (DROPPED.has(key)) continue;
      if (key === "$ref" && typeof value === "string") {
        const ref = this.ref(value, baseId);
        if ("$ref" in ref) out["$ref"] = ref["$ref"] as Json;
        else Object.assign(out, ref);
      } else if (key === "contentSchema") {
        out["x-contentSchema"] = this.convert(value, baseId);
      } else if (key === "dependentRequired") {
        out["dependencies"] = value as Json;
      } else if (key === "prefixItems" && Array.isArray(value)) {
        out["items"] = value.map((v: unknown) => this.convert(v, baseId));
        if (node["items"] !== undefined) out["additionalItems"] = this.convert(node["items"], baseId);
      } else if (key === "items" && Array.isArray(node["prefixItems"])) {
        continue; // became additionalItems above
      } else if ((ONE as readonly string[]).includes(key)) {
        out[key] = this.convert(value, baseId);
      } else if ((LIST as readonly string[]).includes(key) && Array.isArray(value)) {
        out[key] = value.map((v: unknown) => this.convert(v, baseId));
      } else if ((MAP as readonly string[]).includes(key) && isObject(value)) {
        out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.convert(v, baseId)]));
      } else {
        out[key] = value as Json; // annotations and data: type, enum, const, examples, description, ...
      }
    }
    // A contentSchema says what the JSON text holds; say it in prose too, for readers of rendered docs.
    if (out["x-contentSchema"] !== undefined && typeof out["description"] === "string" && !out["description"].includes("x-contentSchema")) {
      out["description"] = `${out["description"]} (JSON text; its decoded shape is x-contentSchema.)`;
    }
    return out;
  }

  /** A `$ref` to a component stays a `$ref`; one to anything else is inlined (converted). */
  private ref(ref: string, baseId: string): JsonMap {
    const { uri, fragment } = resolveRef(ref, baseId);
    const target = fragment === "" ? uri : `${uri}#${fragment}`;
    const name = this.names.get(target);
    if (name) return { $ref: `#/components/schemas/${name}` };
    if (this.inlining.has(target)) throw new Error(`asyncapi export: recursive $ref ${target} has no component to point at`);
    const schema = resolvePointer(this.documents.get(uri), fragment);
    if (schema === undefined) throw new Error(`asyncapi export: $ref ${target} does not resolve`);
    this.inlining.add(target);
    try {
      return this.convert(schema, uri) as JsonMap;
    } finally {
      this.inlining.delete(target);
    }
  }
}

/** `insertOne` -> `InsertOne`. */
const pascal = (name: string): string => name.charAt(0).toUpperCase() + name.slice(1);

/** The frame's fields other than `data`, as message headers; `command` fixed per message. */
function headers(command: string, reply: boolean): JsonMap {
  return {
    type: "object",
    allOf: [{ $ref: "#/components/schemas/FrameHeaders" }],
    required: reply ? ["id", "command", "replyto"] : ["id", "command"],
    properties: {
      command: { const: command, description: `Always \`${command}\` for this message (servers lower-case the command before dispatch).` },
      ...(reply ? { replyto: { type: "string", minLength: 1, description: "The `id` of the request this frame answers." } } : {}),
    },
  };
}

function messageFor(command: CommandModel, payload: PayloadModel, wireCommand: string, reply: boolean): JsonMap {
  const examples = payload.examples.map((example, i) => ({
    name: `${payload.typeName}${payload.examples.length > 1 ? `-${i + 1}` : ""}`.replace(/[^A-Za-z0-9._-]/g, ""),
    headers: (reply ? { id: `r${i + 1}`, replyto: `q${i + 1}`, command: wireCommand } : { id: `q${i + 1}`, command: wireCommand }) as JsonMap,
    payload: example as Json,
  }));
  return {
    name: wireCommand,
    title: payload.typeName,
    summary: reply ? `Reply to \`${command.name}\` (command \`${wireCommand}\`).` : command.purpose,
    description: payload.description,
    contentType: "application/json",
    headers: headers(wireCommand, reply),
    payload: { $ref: `#/components/schemas/${payload.typeName}` },
    correlationId: { $ref: `#/components/correlationIds/${reply ? "replyTo" : "frameId"}` },
    traits: [{ $ref: "#/components/messageTraits/frame" }],
    ...(examples.length > 0 ? { examples } : {}),
    ...(command.deprecated ? { "x-deprecated": true } : {}),
  };
}

function operationFor(command: CommandModel, action: "send" | "receive", errorMessage: string | undefined, raw: unknown): [string, JsonMap] {
  const meta = isObject(raw) && isObject(raw["x-openflow"]) ? raw["x-openflow"] : {};
  const id = `${action}${pascal(action === "send" ? command.methodName : command.handlerName.replace(/^on/, ""))}`;
  const channel = { $ref: "#/channels/connection" };
  const replyMessages: JsonMap[] = [];
  if (command.reply) replyMessages.push({ $ref: `#/channels/connection/messages/${command.reply.typeName}` });
  if (command.reply && errorMessage && command.name !== "error") replyMessages.push({ $ref: `#/channels/connection/messages/${errorMessage}` });
  const description = [
    command.description,
    command.deprecated ? `**Deprecated:** ${command.deprecation ?? "the latest server no longer handles it."}` : "",
    command.replyCommand === null ? "Nobody answers this command." : !command.replyExpected ? `A \`${command.replyCommand}\` answer may come, but senders do not wait for it.` : "",
  ]
    .filter(Boolean)
    .join("\n\n");
  return [
    id,
    {
      action,
      channel,
      title: command.name,
      summary: command.purpose,
      description,
      messages: [{ $ref: `#/channels/connection/messages/${command.request.typeName}` }],
      ...(replyMessages.length > 0 ? { reply: { channel, messages: replyMessages } } : {}),
      tags: [{ name: action === "send" ? "client-started" : "server-started" }, ...(command.deprecated ? [{ name: "deprecated" }] : [])],
      "x-openflow": {
        command: command.name,
        direction: command.direction,
        replyCommand: command.replyCommand,
        replyExpected: command.replyExpected,
        deprecated: command.deprecated,
        ...(command.deprecation ? { deprecation: command.deprecation } : {}),
        ...(command.aliases.length > 0 ? { aliases: [...command.aliases] } : {}),
        implementations: command.implementations as unknown as Json,
        ...(isObject(meta["sources"]) ? { sources: meta["sources"] as Json } : {}),
        errors: [...command.errors],
        notes: [...command.notes],
        protobuf: command.protobuf as unknown as Json,
      },
    },
  ];
}

export function emitAsyncApi(model: SpecModel, documents: ReadonlyMap<string, unknown>): Map<string, string> {
  const frame = model.frame?.schema ?? {};
  const spec = isObject(frame["x-openflow"]) && isObject(frame["x-openflow"]["spec"]) ? frame["x-openflow"]["spec"] : {};
  const str = (v: unknown, fallback: string): string => (typeof v === "string" ? v : fallback);
  const paths = Array.isArray(spec["paths"]) && spec["paths"].length > 0 ? (spec["paths"] as string[]) : ["/"];

  // Component schemas: every shared shape, every command-local shape, every payload, and the frame.
  const components: (Component & { uri: string })[] = [];
  const addDef = (d: DefModel): void => void components.push({ name: d.typeName, schema: d.schema, baseId: ID_BASE + d.file, uri: d.schemaUri });
  model.defs.forEach(addDef);
  for (const c of model.commands) {
    c.localDefs.forEach(addDef);
    for (const p of [c.request, c.reply]) if (p) components.push({ name: p.typeName, schema: p.schema, baseId: ID_BASE + c.file, uri: p.schemaUri });
  }
  if (model.frame) components.push({ name: "Frame", schema: model.frame.schema, baseId: model.frame.schemaUri, uri: model.frame.schemaUri });
  const converter = new SchemaConverter(components, documents);
  const schemas: JsonMap = {};
  for (const c of [...components].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const converted = converter.convert(c.schema, c.baseId) as JsonMap;
    if (c.name === "Frame") delete converted["x-openflow"];
    schemas[c.name] = converted;
  }
  const frameSchema = schemas["Frame"];
  if (isObject(frameSchema) && isObject(frameSchema["properties"])) {
    const { data: _data, ...rest } = frameSchema["properties"] as JsonMap;
    schemas["FrameHeaders"] = {
      title: "FrameHeaders",
      description: "Every frame field except `data`: what AsyncAPI calls the message headers. The payload travels as JSON text in `data` (see x-openflow-framing).",
      type: "object",
      properties: rest,
    };
  }

  const errorCommand = model.commands.find((c) => c.name === "error");
  const errorMessage = errorCommand?.request.typeName;
  const messages: JsonMap = {};
  const operations: JsonMap = {};
  for (const c of model.commands) {
    messages[c.request.typeName] = messageFor(c, c.request, c.name, false);
    if (c.reply && c.replyCommand !== null) messages[c.reply.typeName] = messageFor(c, c.reply, c.replyCommand, true);
    const actions: Array<"send" | "receive"> = c.direction === "c2s" ? ["send"] : c.direction === "s2c" ? ["receive"] : ["send", "receive"];
    for (const action of actions) {
      const [id, op] = operationFor(c, action, errorMessage, documents.get(ID_BASE + c.file));
      operations[id] = op;
    }
  }
  const sortKeys = (m: JsonMap): JsonMap => Object.fromEntries(Object.keys(m).sort().map((k) => [k, m[k] as Json]));
  const channelMessages: JsonMap = {};
  for (const name of Object.keys(messages).sort()) channelMessages[name] = { $ref: `#/components/messages/${name}` };

  const wsServer = (protocol: "ws" | "wss", host: string, description: string): JsonMap => ({
    host: "{host}",
    protocol,
    pathname: "{path}",
    title: `OpenFlow over ${protocol}://`,
    summary: description,
    description: `${description} Servers accept the websocket on any of the paths in the \`path\` variable.`,
    variables: {
      host: { default: host, description: "Host and port of the OpenFlow server." },
      path: { enum: paths, default: paths[0] as string, description: `Websocket path the server accepts${typeof spec["pathsSource"] === "string" ? ` (${spec["pathsSource"]})` : ""}.` },
    },
    bindings: { ws: { bindingVersion: "0.1.0" } },
  });

  const doc: JsonMap = {
    // JSON has no comments: the generated-code marker is the first property.
    "x-generated": "Code generated by openflow-spec from schemas/. DO NOT EDIT.",
    asyncapi: "3.0.0",
    id: "urn:openflow-spec:openflow-websocket-protocol",
    info: {
      title: str(spec["title"], "OpenFlow websocket protocol"),
      version: str(spec["version"], "0.0.0"),
      description: str(
        spec["description"],
        "The JSON-over-websocket protocol of OpenFlow (OpenIAP flow) servers, OpenRPA robots, Node-RED and web apps.",
      ),
      license: { name: "MIT" },
      tags: [{ name: "client-started", description: "Commands the client sends." }, { name: "server-started", description: "Commands the server sends." }, { name: "deprecated", description: "Commands the latest server no longer handles." }],
    },
    defaultContentType: "application/json",
    servers: {
      local: wsServer("ws", "localhost:3000", "A server on this machine, such as `openflow-spec serve`."),
      secure: wsServer("wss", "app.openiap.io", "A server behind TLS."),
    },
    channels: {
      connection: {
        title: "OpenFlow websocket connection",
        summary: "Every message of the protocol flows over one websocket connection, both ways.",
        description:
          "One websocket connection carries every command in both directions. Each websocket text message is one frame, a JSON object whose `data` string holds the payload as JSON text (or one chunk of it). A reply frame's `replyto` is the `id` of the request it answers.",
        messages: channelMessages,
        bindings: { ws: { bindingVersion: "0.1.0" } },
      },
    },
    operations: sortKeys(operations),
    components: {
      schemas,
      messages: sortKeys(messages),
      correlationIds: {
        frameId: { description: "The request frame's `id`; the reply carries it back in `replyto`.", location: "$message.header#/id" },
        replyTo: { description: "The `id` of the request this reply answers.", location: "$message.header#/replyto" },
      },
      messageTraits: {
        frame: {
          description: "Frames carry the payload as JSON text in `data`; a large payload is split into several frames with the same `id`.",
          "x-openflow-framing": {
            encoding: "The websocket text message is a JSON object (the frame). Its `data` field is a string holding the payload as JSON text; the other frame fields are this message's headers.",
            chunking:
              "A payload longer than the peer's package size is sent as `count` frames with the same `id` and `index` 0..count-1, each carrying a slice of the JSON text in `data`; the receiver joins the slices in index order and parses the result. `count` and `index` are JSON integers.",
            correlation: "A reply frame sets `replyto` to the request frame's `id` and usually repeats its command; failures may answer with the `error` command instead.",
            frameSchema: "#/components/schemas/Frame",
          },
        },
      },
    },
  };
  return new Map([[ASYNCAPI_FILE, `${JSON.stringify(doc, null, 2)}\n`]]);
}
