/**
 * The workflows file of the fake robot (`openflow-spec robot --workflows FILE`, `startRobot({ workflows })`): which
 * workflows the robot knows and how each one ends. Documented in docs/robots.md#the-workflows-file. Read strictly:
 * an unknown key or a wrong type is an error naming where it is (a typo must not silently change a test).
 */

/** How a scripted workflow run ends: the robot command it sends last (docs/protocol.md#robot-commands). */
export type WorkflowOutcome = "completed" | "failed" | "aborted" | "error";

export const WORKFLOW_OUTCOMES: readonly WorkflowOutcome[] = ["completed", "failed", "aborted", "error"];

/** One scripted workflow. */
export interface ScriptedWorkflow {
  /** Matched against the invoke's `workflowid` (and `name`, case-insensitively, as OpenRPA also finds a workflow by its file name). */
  id: string;
  name?: string;
  /** How it ends. Default "completed". */
  outcome?: WorkflowOutcome;
  /** How long the run takes before it ends, in ms. Default 0. */
  delayMs?: number;
  /** Arguments it sets: `invokecompleted` carries the invoke's parameters with these merged over them. */
  output?: Record<string, unknown>;
  /** The error text of a failed, aborted or error outcome (the exception's Message). */
  message?: string;
  /** Send `invokeidle` once, halfway through the run. Default false. */
  idle?: boolean;
  /**
   * Answer the first N deliveries of each invocation (by correlation id) with OpenRPA's busy nack
   * "Sorry, I'm bussy", so the server redelivers them. `true`: always busy. Default 0.
   */
  busy?: number | boolean;
}

/** The whole file. */
export interface WorkflowsFile {
  workflows: ScriptedWorkflow[];
  /** How many invoked workflows may run at once; one more is answered busy (OpenRPA's default is 1). Default 1. */
  concurrency?: number;
  /** Whether killworkflow and killallworkflows are obeyed (OpenRPA's remote_allowed_killing_any). Default true. */
  allowKill?: boolean;
}

/** A workflows file that is not what the format says; `where` is a JSON pointer into it. */
export class WorkflowsFileError extends Error {
  override name = "WorkflowsFileError";
  constructor(
    message: string,
    readonly where: string,
  ) {
    super(`${where || "(root)"}: ${message}`);
  }
}

const WORKFLOW_KEYS = new Set(["id", "name", "outcome", "delayMs", "output", "message", "idle", "busy"]);
const FILE_KEYS = new Set(["workflows", "concurrency", "allowKill", "$comment"]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function nonNegativeInteger(v: unknown, where: string, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max) throw new WorkflowsFileError(`must be an integer from 0 to ${max}, got ${JSON.stringify(v)}`, where);
  return v;
}

/** Check a parsed workflows file and return it typed (defaults not filled in). */
export function parseWorkflows(value: unknown): WorkflowsFile {
  if (!isObject(value)) throw new WorkflowsFileError("must be an object {\"workflows\": [...]}", "");
  for (const key of Object.keys(value)) if (!FILE_KEYS.has(key)) throw new WorkflowsFileError(`unknown key (allowed: ${[...FILE_KEYS].join(", ")})`, `/${key}`);
  if (!Array.isArray(value["workflows"])) throw new WorkflowsFileError("must be an array of workflows", "/workflows");
  const seen = new Set<string>();
  const workflows = value["workflows"].map((w: unknown, i: number): ScriptedWorkflow => {
    const at = `/workflows/${i}`;
    if (!isObject(w)) throw new WorkflowsFileError("must be an object with at least an id", at);
    for (const key of Object.keys(w)) if (!WORKFLOW_KEYS.has(key)) throw new WorkflowsFileError(`unknown key (allowed: ${[...WORKFLOW_KEYS].join(", ")})`, `${at}/${key}`);
    if (typeof w["id"] !== "string" || w["id"] === "") throw new WorkflowsFileError("must be a non-empty string", `${at}/id`);
    if (seen.has(w["id"])) throw new WorkflowsFileError(`duplicate id ${JSON.stringify(w["id"])}`, `${at}/id`);
    seen.add(w["id"]);
    const out: ScriptedWorkflow = { id: w["id"] };
    if (w["name"] !== undefined) {
      if (typeof w["name"] !== "string") throw new WorkflowsFileError("must be a string", `${at}/name`);
      out.name = w["name"];
    }
    if (w["outcome"] !== undefined) {
      if (!WORKFLOW_OUTCOMES.includes(w["outcome"] as WorkflowOutcome)) throw new WorkflowsFileError(`must be one of ${WORKFLOW_OUTCOMES.join(", ")}, got ${JSON.stringify(w["outcome"])}`, `${at}/outcome`);
      out.outcome = w["outcome"] as WorkflowOutcome;
    }
    if (w["delayMs"] !== undefined) out.delayMs = nonNegativeInteger(w["delayMs"], `${at}/delayMs`, 3_600_000);
    if (w["output"] !== undefined) {
      if (!isObject(w["output"])) throw new WorkflowsFileError("must be an object of arguments by name", `${at}/output`);
      out.output = w["output"];
    }
    if (w["message"] !== undefined) {
      if (typeof w["message"] !== "string") throw new WorkflowsFileError("must be a string", `${at}/message`);
      out.message = w["message"];
    }
    if (w["idle"] !== undefined) {
      if (typeof w["idle"] !== "boolean") throw new WorkflowsFileError("must be true or false", `${at}/idle`);
      out.idle = w["idle"];
    }
    if (w["busy"] !== undefined) out.busy = typeof w["busy"] === "boolean" ? w["busy"] : nonNegativeInteger(w["busy"], `${at}/busy`, 1_000_000);
    return out;
  });
  const file: WorkflowsFile = { workflows };
  if (value["concurrency"] !== undefined) {
    const n = nonNegativeInteger(value["concurrency"], "/concurrency", 1000);
    if (n === 0) throw new WorkflowsFileError("must be at least 1", "/concurrency");
    file.concurrency = n;
  }
  if (value["allowKill"] !== undefined) {
    if (typeof value["allowKill"] !== "boolean") throw new WorkflowsFileError("must be true or false", "/allowKill");
    file.allowKill = value["allowKill"];
  }
  return file;
}

/** Parse the text of a workflows file (JSON). */
export function parseWorkflowsText(text: string): WorkflowsFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new WorkflowsFileError(`not JSON: ${(err as Error).message}`, "");
  }
  return parseWorkflows(value);
}
