/**
 * Payloads: decoding a message's `data` and validating it against its command's request or reply schema
 * (runtime/validate.ts, which also decodes and checks JSON-in-string fields against their contentSchema).
 */
import { decodeData, isKnownCommand, validatePayload, type PayloadKind } from "../runtime/validate.js";
import { finding, type Finding, type Origin } from "./findings.js";

export type { PayloadKind };
export { isKnownCommand };

export type Decoded = { ok: true; payload: unknown } | { ok: false; error: string };

/**
 * The payload of a message: `JSON.parse(data)`; missing, null or "" data is payload null. `error` messages may carry
 * plain text, which is then the payload itself.
 */
export function decodeMessageData(command: string, data: string | null | undefined): Decoded {
  const result = decodeData(data, { allowPlainText: command.toLowerCase() === "error" });
  return result.ok ? result : { ok: false, error: result.issue.message };
}

/**
 * Validate a payload (the decoded `data`) against the command's request or reply schema, JSON-in-string fields
 * included. An unknown command gives `unknown-command`.
 */
export function validateCommandPayload(command: string, kind: PayloadKind, payload: unknown, origin: Origin = {}, extra: { id?: string | undefined } = {}): Finding[] {
  if (!isKnownCommand(command)) {
    return [finding("unknown-command", `unknown command ${JSON.stringify(command)}`, origin, { ...extra, command })];
  }
  const name = command.toLowerCase();
  return validatePayload(name, kind, payload).map((issue) =>
    finding("payload-invalid", `${name} ${kind} payload: ${issue.message}`, origin, { ...extra, command, pointer: issue.pointer }),
  );
}
