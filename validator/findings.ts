/**
 * What the validator reports: one Finding per problem, with a code from a closed set. The finding table of docs/ci.md
 * is rendered from `findingCodes`; keep the two in sync.
 */

export type Severity = "error" | "warning";

/** Every finding code, its severity and one line saying what it means. Closed set: add here and in docs/ci.md. */
export const findingCodes = {
  "not-json": { severity: "error", description: "An input line or file is not valid JSON." },
  "line-too-long": { severity: "error", description: "A capture line is longer than the line limit; it was skipped unread." },
  "envelope-invalid": { severity: "error", description: "A capture line `{\"dir\",\"frame\"}` has a `dir` other than c2s/s2c or a `frame` that is not an object." },
  "frame-invalid": { severity: "error", description: "The frame breaks schemas/frame.json (missing or empty id/command, wrong field types, count < 1, ...)." },
  "count-string": { severity: "error", description: "`count` is a string; both servers then never complete the message (quirk Q1)." },
  "index-string": { severity: "error", description: "`index` is a string; servers may never trigger reassembly (quirk Q1)." },
  "index-out-of-range": { severity: "error", description: "`index` is not below `count`." },
  "chunk-mismatch": { severity: "error", description: "A chunk disagrees with earlier chunks of the same id (count, command or replyto); the message is dropped." },
  "chunk-duplicate": { severity: "error", description: "The same chunk index of one message arrived twice; the repeat is ignored." },
  "chunk-missing": { severity: "error", description: "A message never completed although later chunks arrived: a chunk in the middle was lost." },
  "incomplete-message": { severity: "error", description: "A message was still half-received at the end of the input (or was evicted by the pending limits)." },
  "message-too-large": { severity: "error", description: "A message exceeds the reassembly limits (characters or chunk count)." },
  "data-not-json": { severity: "error", description: "The joined `data` of a non-`error` message is not JSON text." },
  "payload-invalid": { severity: "error", description: "The payload breaks the command's request or reply schema (JSON-in-string fields are checked against their contentSchema)." },
  "unknown-command": { severity: "error", description: "The command is not in the specification." },
  "unanswered-request": { severity: "error", description: "A request whose command expects a reply (x-openflow.replyExpected) got none by the end of the capture." },
  "unacknowledged-push": { severity: "error", description: "A server-started command that needs a reply (queuemessage) was never answered by the client." },
  "unknown-reply": { severity: "error", description: "A reply's `replyto` names no request seen in the opposite direction." },
  "reply-command-mismatch": { severity: "error", description: "A reply's command is neither the request's reply command nor `error`." },
  "replyto-empty": { severity: "warning", description: "`replyto` is \"\": servers read it as a request, the official JS client as a reply it then drops (quirk Q9)." },
  "command-case": { severity: "warning", description: "The command is not lower case; servers lower-case it, case-sensitive peers reject it (quirk Q13)." },
  "deprecated-command": { severity: "warning", description: "The command is deprecated: the latest server no longer handles it." },
  "unknown-request-field": { severity: "warning", description: "A request carries a top-level field its command's schema does not declare (a typo such as `tpo` for `top`, or a private extension); servers ignore it. Checked with the closed request validators; fails under `--strict`." },
  "id-reused": { severity: "warning", description: "A request id was reused while the earlier request was still unanswered (OpenRPA resends, quirk Q18)." },
  "robot-unknown-command": { severity: "error", description: "A queuemessage body has OpenRPA's robot command shape but a `command` schemas/robot/ does not know (docs/protocol.md#robot-commands)." },
  "robot-missing-field": { severity: "error", description: "A robot command inside queuemessage data lacks a field it needs (an invoke without `workflowid` is ignored by the robot)." },
  "robot-payload-invalid": { severity: "error", description: "A robot command inside queuemessage data breaks its schema in schemas/robot/ (a wrong type, a `data` that is not an object)." },
  "robot-out-of-order": { severity: "error", description: "A robot command arrives out of order for its correlation id: an invoke after its answers, or an answer after the one that ended the invocation." },
} as const satisfies Record<string, { severity: Severity; description: string }>;

export type FindingCode = keyof typeof findingCodes;

export type Direction = "c2s" | "s2c";

/** One problem found in the input. */
export interface Finding {
  severity: Severity;
  code: FindingCode;
  message: string;
  /** Input name (file path, or `-` for stdin). */
  file?: string;
  /** 1-based line of the frame (for a message: the line of the chunk that completed or broke it). */
  line?: number;
  /** Direction of the frame or message, when the capture says. */
  dir?: Direction;
  /** Connection id, when the capture line names one (`conn`: several connections in one capture). */
  connection?: string;
  /** Frame id of the message concerned. */
  id?: string;
  /** Wire command of the message concerned. */
  command?: string;
  /**
   * JSON pointer. For frame codes it points into the frame (`/count`); for payload-invalid into the decoded
   * payload (`/query`; for a JSON-in-string field, the string field itself, the message says where inside).
   */
  pointer?: string;
}

/** Where a frame or message came from; copied onto its findings. */
export interface Origin {
  file?: string;
  line?: number;
  dir?: Direction;
  connection?: string;
}

/** Build a finding with the code's severity and the origin's location. Optional fields are omitted when unknown. */
export function finding(
  code: FindingCode,
  message: string,
  origin: Origin,
  extra: { id?: string | undefined; command?: string | undefined; pointer?: string | undefined } = {},
): Finding {
  const out: Finding = { severity: findingCodes[code].severity, code, message };
  if (origin.file !== undefined) out.file = origin.file;
  if (origin.line !== undefined) out.line = origin.line;
  if (origin.dir !== undefined) out.dir = origin.dir;
  if (origin.connection !== undefined) out.connection = origin.connection;
  if (extra.id !== undefined && extra.id !== "") out.id = extra.id;
  if (extra.command !== undefined && extra.command !== "") out.command = extra.command;
  if (extra.pointer !== undefined) out.pointer = extra.pointer;
  return out;
}

/** True when any finding is an error, or (strict) any finding at all. */
export function failing(findings: readonly Finding[], strict = false): boolean {
  return findings.some((f) => strict || f.severity === "error");
}
