/**
 * Robot commands inside `queuemessage` data (docs/protocol.md#robot-commands): which bodies are robot commands, their
 * schemas (schemas/robot/), and the order of one correlation id's sequence (invoke, then invokesuccess/invokeidle,
 * then one of invokecompleted, invokefailed, invokeaborted, error, timeout).
 *
 * A body is taken for a robot command by the shape OpenRPA gives it, not by having a `command` field: an object
 * whose `command` is a string and that carries a field of OpenRPA's RobotCommand class (`workflowid`, `detectorid`,
 * `killexisting`, `killallexisting`, `flowid`, `nodeId`), or whose `command` is `invoke` followed by letters only
 * (`invokecompleted`, ...), starts with `killworkflow` or `killallworkflow`, or is `detector`. `timeout` and `error` without such a field count only for a correlation id with an invocation under
 * way (the server's dead letter `{"command": "timeout"}`). So an application payload such as
 * `{"command": "ship", "order": 42}` is never judged.
 */
import { isKnownRobotCommand, validateRobotCommand } from "../runtime/validate.js";
import { robotCommands } from "../generated/commands.js";
import { finding, type Finding, type Origin } from "./findings.js";

/** RobotCommand fields (openrpa Interfaces/mq/RobotCommand.cs) that mark a body as a robot command. */
const MARKERS = ["workflowid", "detectorid", "killexisting", "killallexisting", "flowid", "nodeId"] as const;

/** Correlation ids followed at once; beyond it the oldest is forgotten (memory stays flat on any capture). */
const MAX_SEQUENCES = 10_000;

type Stage = (typeof robotCommands)[keyof typeof robotCommands]["stage"];

interface Sequence {
  /** Messages after the invoke (accepted, progress, terminal). */
  answers: number;
  /** The terminal command, once one arrived. */
  terminal: string | undefined;
  started: boolean;
}

function stageOf(command: string): Stage | undefined {
  return Object.prototype.hasOwnProperty.call(robotCommands, command) ? robotCommands[command as keyof typeof robotCommands].stage : undefined;
}

/** The body of a queuemessage's `data` as an object (api-2021 sends it as JSON text), or undefined. */
export function bodyOf(data: unknown): Record<string, unknown> | undefined {
  let value = data;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** True when the body has OpenRPA's robot command shape (see the module comment). */
export function hasRobotShape(body: Record<string, unknown>): boolean {
  const command = body["command"];
  if (typeof command !== "string") return false;
  if (MARKERS.some((k) => Object.prototype.hasOwnProperty.call(body, k))) return true;
  return /^invoke[a-z]*$/.test(command) || /^kill(all)?workflow/.test(command) || command === "detector";
}

/** Checks the robot commands of one capture (one connection): call `check` for every queuemessage that is not a reply. */
export class RobotChecker {
  private readonly sequences = new Map<string, Sequence>();

  /** `payload`: the decoded queuemessage payload (a publish or a delivery). Returns the findings for it. */
  check(payload: unknown, origin: Origin, extra: { id?: string | undefined; command?: string | undefined }): Finding[] {
    if (typeof payload !== "object" || payload === null) return [];
    const p = payload as Record<string, unknown>;
    const body = bodyOf(p["data"]);
    if (!body || typeof body["command"] !== "string") return [];
    const command = body["command"];
    const correlationId = typeof p["correlationId"] === "string" ? p["correlationId"] : "";
    const open = correlationId !== "" ? this.sequences.get(correlationId) : undefined;
    const shaped = hasRobotShape(body) || ((command === "timeout" || command === "error") && open?.started === true && open.terminal === undefined);
    if (!shaped) return [];
    const out: Finding[] = [];
    if (!isKnownRobotCommand(command)) {
      out.push(finding("robot-unknown-command", `queuemessage data is a robot command (OpenRPA's shape) with an unknown command ${JSON.stringify(command)}`, origin, { ...extra, pointer: "/data/command" }));
      return out;
    }
    for (const issue of validateRobotCommand(body, "/data") ?? []) {
      const code = issue.keyword === "required" ? "robot-missing-field" : "robot-payload-invalid";
      out.push(finding(code, `robot command ${command}: ${issue.message}`, origin, { ...extra, pointer: issue.pointer }));
    }
    if (correlationId !== "") {
      const problem = this.advance(correlationId, command);
      if (problem) out.push(finding("robot-out-of-order", `robot command ${command} for correlation id ${correlationId} ${problem}`, origin, { ...extra, pointer: "/data/command" }));
    }
    return out;
  }

  /** Move one correlation id's sequence on; returns what is out of order, if anything. */
  private advance(correlationId: string, command: string): string | undefined {
    const stage = stageOf(command);
    if (stage === undefined || stage === "control" || stage === "control-reply" || stage === "event") return undefined;
    let seq = this.sequences.get(correlationId);
    if (!seq) {
      if (this.sequences.size >= MAX_SEQUENCES) this.sequences.delete(this.sequences.keys().next().value as string);
      seq = { answers: 0, terminal: undefined, started: false };
      this.sequences.set(correlationId, seq);
    }
    if (stage === "start") {
      // The same invoke again with no answer yet is a redelivery (a busy robot nacked it): in order.
      if (seq.answers > 0) return `comes after ${seq.terminal ?? "answers"} to it: an invoke must come first`;
      seq.started = true;
      return undefined;
    }
    seq.answers++;
    if (seq.terminal !== undefined) {
      // invokesuccess is published from another thread than the end of a fast workflow: it may follow the end.
      if (stage === "accepted") return undefined;
      return `comes after ${seq.terminal}, which ended the invocation`;
    }
    if (stage === "terminal") seq.terminal = command;
    return undefined;
  }
}
