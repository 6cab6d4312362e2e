/**
 * Replay files: a failing sequence in the capture format `openflow-spec validate` reads (one JSON line per frame,
 * `{"conn","ts","dir","frame"}`, secrets redacted by the capture recorder), preceded by one event line
 * `{"conn":"fuzz","event":"open","fuzz":{...}}` that carries the steps, so `fuzz --replay FILE` can run the same
 * sequence again with the same checks. `conn` of the frames is `user1` or `user2`.
 */
import { CaptureRecorder, parseWireMessage } from "../validator/recorder.js";
import type { Failure } from "./runner.js";
import type { Step } from "./steps.js";
import type { LoggedFrame } from "./wire.js";

export const REPLAY_VERSION = 1;

export interface ReplayMeta {
  version: number;
  seed: number;
  failure: Pick<Failure, "invariant" | "message" | "note" | "command" | "step">;
  steps: Step[];
}

/** The text of a replay file for `steps` (which failed with `failure`) and the frames of their last run. */
export function replayFileText(meta: ReplayMeta, frames: readonly LoggedFrame[], now: () => number = Date.now): string {
  const lines: string[] = [];
  lines.push(JSON.stringify({ conn: "fuzz", ts: new Date(now()).toISOString(), event: "open", fuzz: meta }));
  const recorder = new CaptureRecorder((line) => lines.push(line.replace(/\n$/, "")), { now });
  for (const f of frames) recorder.message(`user${f.as + 1}`, f.dir, parseWireMessage(f.text), f.text);
  recorder.flush();
  lines.push(JSON.stringify({ conn: "fuzz", ts: new Date(now()).toISOString(), event: "close" }));
  return `${lines.join("\n")}\n`;
}

/** The steps of a replay file; throws an Error saying what is wrong with it. */
export function readReplayMeta(text: string): ReplayMeta {
  for (const line of text.split(/\r?\n/)) {
    if (!line.includes('"fuzz"')) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    const meta = (value as { fuzz?: unknown }).fuzz as ReplayMeta | undefined;
    if (meta && typeof meta === "object" && Array.isArray(meta.steps)) {
      if (meta.version !== REPLAY_VERSION) throw new Error(`replay file version ${String(meta.version)}, this openflow-spec reads version ${REPLAY_VERSION}`);
      return meta;
    }
  }
  throw new Error("not a fuzz replay file: no line with the fuzz steps (files written by `fuzz --out DIR`); for a capture from proxy or serve --record use `openflow-spec replay`");
}
