/**
 * Emits `generated/commands.ts`: a descriptor table (data only) of every command, for runtimes, servers and tools
 * that need the metadata at run time (direction, reply command, deprecation, implementations, schema file).
 */
import { StructureKind, VariableDeclarationKind, type StatementStructures } from "ts-morph";
import type { SpecModel } from "../model.js";
import { codeHeader } from "./header.js";
import { printStatements } from "./tsmorph.js";

export function emitCommands(model: SpecModel): Map<string, string> {
  const table: Record<string, unknown> = {};
  for (const c of model.commands) {
    table[c.name] = {
      name: c.name,
      method: c.methodName,
      handler: c.handlerName,
      purpose: c.purpose,
      direction: c.direction,
      replyCommand: c.replyCommand,
      replyExpected: c.replyExpected,
      deprecated: c.deprecated,
      deprecation: c.deprecation ?? null,
      aliases: c.aliases,
      implementations: c.implementations,
      requestType: c.request.typeName,
      replyType: c.reply?.typeName ?? null,
      schema: `schemas/${c.file}`,
    };
  }
  const robotTable: Record<string, unknown> = {};
  for (const r of model.robotCommands ?? []) {
    robotTable[r.name] = { name: r.name, purpose: r.purpose, sender: r.sender, stage: r.stage, required: r.required, type: r.typeName, schema: `schemas/${r.file}` };
  }
  const statements: StatementStructures[] = [
    {
      kind: StructureKind.TypeAlias,
      isExported: true,
      name: "Direction",
      type: `"c2s" | "s2c" | "both"`,
      docs: ["Who starts the exchange: c2s client to server, s2c server to client, both either side."],
    },
    {
      kind: StructureKind.TypeAlias,
      isExported: true,
      name: "ImplementationLabel",
      type: `"api-2021" | "api-latest" | "server-2021" | "server-latest" | "openrpa-2021" | "openrpa-latest"`,
      docs: ["Implementation labels (docs/protocol.md#implementations)."],
    },
    {
      kind: StructureKind.Interface,
      isExported: true,
      name: "CommandDescriptor",
      docs: ["Metadata of one command, from `x-openflow` of its schema file."],
      properties: [
        { name: "name", type: "string", isReadonly: true, docs: ["Wire command string."] },
        { name: "method", type: "string", isReadonly: true, docs: ["Method name on the generated client."] },
        { name: "handler", type: "string", isReadonly: true, docs: ["Handler registration name (`on...`)."] },
        { name: "purpose", type: "string", isReadonly: true },
        { name: "direction", type: "Direction", isReadonly: true },
        { name: "replyCommand", type: "string | null", isReadonly: true, docs: ["Command of a successful reply; null when never answered."] },
        { name: "replyExpected", type: "boolean", isReadonly: true, docs: ["Whether the sender waits for a correlated reply."] },
        { name: "deprecated", type: "boolean", isReadonly: true },
        { name: "deprecation", type: "string | null", isReadonly: true },
        { name: "aliases", type: "readonly string[]", isReadonly: true },
        { name: "implementations", type: "Readonly<Record<ImplementationLabel, readonly string[]>>", isReadonly: true },
        { name: "requestType", type: "string", isReadonly: true, docs: ["Name of the request payload type in types.ts."] },
        { name: "replyType", type: "string | null", isReadonly: true },
        { name: "schema", type: "string", isReadonly: true, docs: ["Schema file, relative to the package root."] },
      ],
    },
    {
      kind: StructureKind.VariableStatement,
      isExported: true,
      declarationKind: VariableDeclarationKind.Const,
      docs: ["Every command of the spec, by wire command string."],
      declarations: [
        {
          name: "commands",
          initializer: `${JSON.stringify(table, null, 2)} as const satisfies Readonly<Record<string, CommandDescriptor>>`,
        },
      ],
    },
    {
      kind: StructureKind.TypeAlias,
      isExported: true,
      name: "CommandDescriptors",
      type: "typeof commands",
    },
  ];
  // Robot commands (schemas/robot/): only when the spec has them, so a spec without robots generates what it did.
  if ((model.robotCommands ?? []).length > 0) statements.push(
    {
      kind: StructureKind.Interface,
      isExported: true,
      name: "RobotCommandDescriptor",
      docs: ["Metadata of one robot command (a body inside `queuemessage.data`), from `x-openflow` of schemas/robot/<command>.json."],
      properties: [
        { name: "name", type: "string", isReadonly: true, docs: ["The body's `command` value."] },
        { name: "purpose", type: "string", isReadonly: true },
        { name: "sender", type: `"caller" | "robot" | "server"`, isReadonly: true, docs: ["Who publishes it."] },
        {
          name: "stage",
          type: `"start" | "accepted" | "progress" | "terminal" | "control" | "control-reply" | "event"`,
          isReadonly: true,
          docs: ["Where it sits in one correlation id's sequence (docs/protocol.md#robot-commands)."],
        },
        { name: "required", type: "readonly string[]", isReadonly: true, docs: ["Fields the body must carry besides `command`."] },
        { name: "type", type: "string", isReadonly: true, docs: ["Name of its type in types.ts."] },
        { name: "schema", type: "string", isReadonly: true, docs: ["Schema file, relative to the package root."] },
      ],
    },
    {
      kind: StructureKind.VariableStatement,
      isExported: true,
      declarationKind: VariableDeclarationKind.Const,
      docs: ["Every robot command of the spec, by its `command` value."],
      declarations: [
        {
          name: "robotCommands",
          initializer: `${JSON.stringify(robotTable, null, 2)} as const satisfies Readonly<Record<string, RobotCommandDescriptor>>`,
        },
      ],
    },
  );
  return new Map([["commands.ts", printStatements("commands.ts", codeHeader("schemas/commands/*.json"), statements)]]);
}
