/** Small schema trees for the diff tests: a command file from a few fields, trees from a list of files. */
import type { SchemaTree } from "../diff/index.js";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface CommandOptions {
  direction?: "c2s" | "s2c" | "both";
  replyCommand?: string | null;
  replyExpected?: boolean;
  deprecated?: boolean;
  request?: Record<string, Json>;
  reply?: Record<string, Json> | null;
}

/** A command file as schemas/commands/<name>.json holds it (only what the diff reads). */
export function commandFile(name: string, o: CommandOptions = {}): Record<string, Json> {
  const replyCommand = o.replyCommand === undefined ? name : o.replyCommand;
  const defs: Record<string, Json> = { request: { type: "object", ...(o.request ?? {}) } };
  if (o.reply !== null && replyCommand !== null) defs["reply"] = { type: "object", ...(o.reply ?? {}) };
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: `https://openflow-spec.dev/schemas/commands/${name}.json`,
    title: name,
    description: `The ${name} command.`,
    ...(o.deprecated ? { deprecated: true } : {}),
    "x-openflow": { command: name, direction: o.direction ?? "c2s", replyCommand, replyExpected: o.replyExpected ?? replyCommand !== null },
    $defs: defs,
  };
}

/** A tree from files keyed by path relative to the schemas directory. */
export function tree(label: string, files: Record<string, Json>): SchemaTree {
  return { label, root: label, files: new Map(Object.entries(files)) };
}
