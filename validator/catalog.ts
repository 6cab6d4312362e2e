/**
 * Command metadata the capture checks need (who starts a command, whether it expects a reply, its reply command),
 * taken from the generated descriptor table (generated/commands.ts, from `x-openflow` of schemas/commands/*.json).
 */
import { commands } from "../generated/commands.js";

export interface CommandInfo {
  /** Wire command string (lower case). */
  command: string;
  direction: "c2s" | "s2c" | "both";
  /** Command of a successful reply, or null when nobody answers. */
  replyCommand: string | null;
  /** Whether the sender waits for a reply (unanswered requests are reported only then). */
  replyExpected: boolean;
  /** The schema marks the command deprecated. */
  deprecated: boolean;
  /** The schema has a reply payload (`$defs.reply`). */
  hasReply: boolean;
}

export interface Catalog {
  /** Look a wire command up; servers lower-case commands, so lookup is case-insensitive (aliases included). */
  get(command: string): CommandInfo | undefined;
  readonly size: number;
}

/** The subset of a descriptor the catalog reads. */
export interface DescriptorLike {
  name: string;
  direction: "c2s" | "s2c" | "both";
  replyCommand: string | null;
  replyExpected: boolean;
  deprecated: boolean;
  aliases: readonly string[];
  replyType: string | null;
}

/** Build a catalog from command descriptors (tests can pass their own). */
export function catalogFrom(descriptors: Iterable<DescriptorLike>): Catalog {
  const byName = new Map<string, CommandInfo>();
  for (const d of descriptors) {
    const info: CommandInfo = {
      command: d.name,
      direction: d.direction,
      replyCommand: d.replyCommand,
      replyExpected: d.replyExpected,
      deprecated: d.deprecated,
      hasReply: d.replyType !== null,
    };
    byName.set(d.name.toLowerCase(), info);
    for (const alias of d.aliases) byName.set(alias.toLowerCase(), info);
  }
  return {
    get(command: string) {
      return byName.get(command) ?? byName.get(command.toLowerCase());
    },
    size: byName.size,
  };
}

let shared: Catalog | undefined;

/** The catalog of the specification this package was generated from. */
export function defaultCatalog(): Catalog {
  shared ??= catalogFrom(Object.values(commands) as DescriptorLike[]);
  return shared;
}
