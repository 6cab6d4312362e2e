/**
 * The maintainer's list of intended breaking changes since the baseline (`spec/acknowledged-breaks.json`): each
 * entry names a rule, a command and a payload pointer, plus an optional note saying why. A finding listed there
 * is still reported but no longer fails the check. `acknowledgeAll` rewrites the list from a diff (what
 * `npm run diff:accept` does), keeping the notes of entries that still match.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { isObject } from "../generator/walk.js";
import { atLeast, ruleIds, type RuleId, type Severity } from "./rules.js";
import { worst } from "./outcome.js";
import type { Finding } from "./spec.js";

export interface Acknowledgement {
  readonly rule: RuleId;
  readonly command: string;
  readonly pointer: string;
  readonly note?: string;
}

/** The acknowledged-breaks file is missing fields, names an unknown rule, or is not JSON. */
export class AcknowledgedFileError extends Error {
  override name = "AcknowledgedFileError";
}

const keyOf = (a: Pick<Acknowledgement, "rule" | "command" | "pointer">): string => `${a.rule}\u0000${a.command}\u0000${a.pointer}`;

/** Reads the list; a missing file is an empty list. */
export function readAcknowledged(file: string): Acknowledgement[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new AcknowledgedFileError(`${file}: cannot read: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new AcknowledgedFileError(`${file}: not JSON: ${(err as Error).message}`);
  }
  const list = isObject(json) ? json["acknowledged"] : undefined;
  if (!Array.isArray(list)) throw new AcknowledgedFileError(`${file}: expected {"acknowledged": [...]}`);
  return list.map((entry, i) => {
    const at = `${file}#/acknowledged/${i}`;
    if (!isObject(entry)) throw new AcknowledgedFileError(`${at}: expected an object {rule, command, pointer}`);
    const { rule, command, pointer, note } = entry as Record<string, unknown>;
    if (typeof rule !== "string" || !(ruleIds as string[]).includes(rule)) throw new AcknowledgedFileError(`${at}/rule: unknown rule ${JSON.stringify(rule)}`);
    if (typeof command !== "string") throw new AcknowledgedFileError(`${at}/command: expected a string`);
    if (typeof pointer !== "string") throw new AcknowledgedFileError(`${at}/pointer: expected a string`);
    if (note !== undefined && typeof note !== "string") throw new AcknowledgedFileError(`${at}/note: expected a string`);
    return { rule: rule as RuleId, command, pointer, ...(note !== undefined ? { note } : {}) };
  });
}

/** A predicate for `judge`: is this finding in the list? */
export function acknowledgedBy(list: readonly Acknowledgement[]): (f: Finding) => boolean {
  const keys = new Set(list.map(keyOf));
  return (f) => keys.has(keyOf(f));
}

/** Every finding at or above `threshold` as an acknowledgement, keeping the notes of `previous` entries. */
export function acknowledgeAll(findings: readonly Finding[], previous: readonly Acknowledgement[], threshold: Severity): Acknowledgement[] {
  const notes = new Map(previous.filter((a) => a.note !== undefined).map((a) => [keyOf(a), a.note!]));
  const out = new Map<string, Acknowledgement>();
  for (const f of findings) {
    if (!atLeast(worst(f), threshold)) continue;
    const note = notes.get(keyOf(f));
    out.set(keyOf(f), { rule: f.rule, command: f.command, pointer: f.pointer, ...(note !== undefined ? { note } : {}) });
  }
  return [...out.values()];
}

export function writeAcknowledged(file: string, list: readonly Acknowledgement[]): void {
  writeFileSync(file, `${JSON.stringify({ acknowledged: list }, null, 2)}\n`);
}
