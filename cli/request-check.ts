/**
 * The check `call` and `shell` run before sending: the command is one the spec knows, and the payload matches its
 * request schema, checked closed (a misspelt field is reported). Each problem is one line naming the place and,
 * for a misspelt command or field, the nearest known name.
 */
import { isKnownCommand, validatePayload } from "../runtime/validate.js";
import { suggest } from "../generator/suggest.js";
import { clientCommands, commandTraits, requestFields } from "./schema-fields.js";

/** `unknown command "qeury" (did you mean "query"?)`, or undefined for a known command. */
export function unknownCommand(command: string): string | undefined {
  if (isKnownCommand(command)) return undefined;
  const near = suggest(command.toLowerCase(), clientCommands());
  return `unknown command ${JSON.stringify(command)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ""}`;
}

/** Most problems listed for one payload (oneOf branches can multiply them). */
const MAX_PROBLEMS = 8;

/** The problems of a request: empty when it may be sent. */
export function requestProblems(command: string, payload: unknown): string[] {
  const unknown = unknownCommand(command);
  if (unknown !== undefined) return [unknown];
  const traits = commandTraits(command);
  if (traits?.direction === "s2c") return [`${command} is a command servers send, not clients (schemas/commands/${command.toLowerCase()}.json)`];
  if (traits && !traits.replyExpected) {
    const ping = command.toLowerCase() === "ping" ? "; `openflow-spec probe` shows how a server treats ping" : "";
    return [`${command} gets no reply (x-openflow.replyExpected is false), and this waits for one${ping}`];
  }
  const fields = requestFields(command);
  const seen = new Set<string>();
  const out: string[] = [];
  for (const issue of validatePayload(command, "request", payload, { closed: true })) {
    let text = issue.message === "" ? "the payload does not match" : issue.message;
    if (issue.keyword === "unevaluatedProperties") {
      const field = (issue.pointer.split("/").pop() ?? "").replace(/~1/g, "/").replace(/~0/g, "~");
      const near = suggest(field, fields);
      if (near) text += ` (did you mean ${JSON.stringify(near)}?)`;
    }
    if (issue.pointer === "" && !text.startsWith("/")) text = `the payload ${text}`;
    if (seen.has(text)) continue;
    seen.add(text);
    out.push(text);
  }
  if (out.length > MAX_PROBLEMS) return [...out.slice(0, MAX_PROBLEMS), `... and ${out.length - MAX_PROBLEMS} more`];
  return out;
}
