/**
 * `openflow-spec migrate-report`: which legacy commands a captured app really uses, and what each becomes in the
 * OpenIAP protobuf protocol (`x-openflow.protobuf` of the command files). Reads captures as `validate` does (one
 * frame or `{"dir","frame","conn"}` per line, chunked messages joined per connection and direction), counts the
 * messages the app starts (and the server pushes it receives), and marks which field-level changes touch a field
 * the app really sent or read.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Reassembler, type WireFrame } from "../../runtime/framing.js";

/** One field-level change of `x-openflow.protobuf.changes`. */
export interface MapChange {
  kind: string;
  direction: "request" | "reply";
  field?: string;
  to?: string;
  text?: string;
}

export type MapEntry =
  | { status: "none"; instead: string }
  | { status: "direct" | "renamed" | "reshaped"; command: string; rpc?: string; request: string; reply: string | null; replyCommand: string | null; changes: MapChange[] };

/** The migration map of a schemas directory, by legacy command string. */
export function loadMigrationMap(schemasDir: string): Map<string, MapEntry> {
  const map = new Map<string, MapEntry>();
  const dir = join(schemasDir, "commands");
  for (const name of readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
    const doc = JSON.parse(readFileSync(join(dir, name), "utf8")) as { "x-openflow"?: { command?: string; protobuf?: MapEntry } };
    const meta = doc["x-openflow"];
    if (meta?.command && meta.protobuf) map.set(meta.command, meta.protobuf);
  }
  return map;
}

/** What the app did with one legacy command. */
interface Usage {
  messages: number;
  /** Top-level fields seen in the messages that start the exchange (requests the app sent, pushes it received). */
  requestFields: Set<string>;
  /** Top-level fields seen in the answers to those messages. */
  replyFields: Set<string>;
}

export interface ReportCommand {
  command: string;
  status: "direct" | "renamed" | "reshaped" | "none" | "unknown";
  /** The protobuf counterpart; null for none and unknown. */
  protobuf: { command: string; rpc?: string; request: string; reply: string | null; replyCommand: string | null } | null;
  /** What to use instead, for none. */
  instead?: string;
  /** Messages of this command in the captures (requests the app sent and pushes it received). */
  messages: number;
  /** Every field-level change of the command, `used` when the captured traffic has that field. */
  changes: (MapChange & { used: boolean })[];
}

export interface MigrationReport {
  inputs: string[];
  commands: ReportCommand[];
  summary: {
    commands: number;
    messages: number;
    direct: number;
    renamed: number;
    reshaped: number;
    none: number;
    unknown: number;
    /** Field changes that touch a field the captured traffic really has. */
    usedChanges: number;
  };
}

/** Collects usage from capture lines; `finish()` builds the report. */
export class UsageCollector {
  private readonly usage = new Map<string, Usage>();
  /** Per connection and direction: the chunk joiner and the open exchanges (frame id → command). */
  private readonly joiners = new Map<string, Reassembler>();
  private readonly started = new Map<string, string>();
  readonly inputs: string[] = [];
  /** Lines that were not a frame (kept out of the report, counted for the summary line of the text format). */
  skipped = 0;

  /** One line of a capture (or one document) of input `file`. */
  pushLine(text: string, file: string): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.skipped++;
      return;
    }
    const envelope = isRecord(value) && isRecord(value["frame"]) ? value : undefined;
    const frame = (envelope ? envelope["frame"] : value) as Partial<WireFrame> | undefined;
    if (!isRecord(frame) || typeof frame.command !== "string" || typeof frame.id !== "string") {
      this.skipped++;
      return;
    }
    const dir = envelope && typeof envelope["dir"] === "string" ? envelope["dir"] : "?";
    const conn = envelope && envelope["conn"] !== undefined ? String(envelope["conn"]) : "";
    const key = `${file}\u0000${conn}\u0000${dir}`;
    let joiner = this.joiners.get(key);
    if (!joiner) this.joiners.set(key, (joiner = new Reassembler()));
    let done;
    try {
      done = joiner.push(frame as WireFrame, 0);
    } catch {
      this.skipped++;
      return;
    }
    if (!done.done) return;
    const message = done.message;
    const fields = topLevelFields(message.data);
    const exchange = `${file}\u0000${conn}`;
    if (message.replyto) {
      const command = this.started.get(`${exchange}\u0000${message.replyto}`);
      if (command) {
        const replies = this.entry(command).replyFields;
        for (const f of fields) replies.add(f);
      }
      return;
    }
    const command = message.command.toLowerCase();
    const u = this.entry(command);
    u.messages++;
    fields.forEach((f) => u.requestFields.add(f));
    this.started.set(`${exchange}\u0000${message.id}`, command);
  }

  private entry(command: string): Usage {
    let u = this.usage.get(command);
    if (!u) this.usage.set(command, (u = { messages: 0, requestFields: new Set(), replyFields: new Set() }));
    return u;
  }

  /** The report: commands in name order, each with its map entry and which changes the traffic touches. */
  finish(map: ReadonlyMap<string, MapEntry>): MigrationReport {
    const commands: ReportCommand[] = [];
    for (const name of [...this.usage.keys()].sort()) {
      const u = this.usage.get(name) as Usage;
      if (u.messages === 0) continue; // only replies to requests of other captures
      const entry = map.get(name);
      if (!entry) {
        commands.push({ command: name, status: "unknown", protobuf: null, messages: u.messages, changes: [] });
        continue;
      }
      if (entry.status === "none") {
        commands.push({ command: name, status: "none", protobuf: null, instead: entry.instead, messages: u.messages, changes: [] });
        continue;
      }
      const { command, rpc, request, reply, replyCommand } = entry;
      commands.push({
        command: name,
        status: entry.status,
        protobuf: { command, ...(rpc ? { rpc } : {}), request, reply, replyCommand },
        messages: u.messages,
        changes: entry.changes.map((ch) => ({ ...ch, used: ch.field !== undefined && (ch.direction === "request" ? u.requestFields : u.replyFields).has(ch.field) })),
      });
    }
    const count = (s: ReportCommand["status"]): number => commands.filter((c) => c.status === s).length;
    return {
      inputs: [...this.inputs],
      commands,
      summary: {
        commands: commands.length,
        messages: commands.reduce((n, c) => n + c.messages, 0),
        direct: count("direct"),
        renamed: count("renamed"),
        reshaped: count("reshaped"),
        none: count("none"),
        unknown: count("unknown"),
        usedChanges: commands.reduce((n, c) => n + c.changes.filter((ch) => ch.used).length, 0),
      },
    };
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The top-level keys of a payload (the JSON text in `data`, or an object some captures hold there). */
function topLevelFields(data: unknown): string[] {
  let value = data;
  if (typeof data === "string") {
    try {
      value = JSON.parse(data);
    } catch {
      return [];
    }
  }
  return isRecord(value) ? Object.keys(value) : [];
}
