/**
 * Failures inside handlers are OpenFlowErrors (runtime/errors.ts); the text the client sees is the message,
 * verbatim, like the real server's texts listed under `x-openflow.errors` in ../schemas/commands/.
 */
import { OpenFlowError } from "../runtime/errors.js";

/** A handler failure whose message is the wire error text. */
export function commandError(text: string): OpenFlowError {
  return new OpenFlowError("server", text, { serverMessage: text });
}

export function authError(text: string): OpenFlowError {
  return new OpenFlowError("auth", text, { serverMessage: text });
}

/** The explicit answer for commands this server does not implement (never a silent no-op). */
export function unsupportedError(command: string, why = ""): OpenFlowError {
  const text = `${command} is not supported by this server${why ? ` (${why})` : ""}`;
  return new OpenFlowError("unsupported", text, { command, serverMessage: text });
}

/** The text to put on the wire for anything a handler threw. */
export function errorText(err: unknown): string {
  if (err instanceof OpenFlowError) return err.serverMessage ?? err.message;
  if (err instanceof Error) return err.message;
  return typeof err === "string" ? err : String(err);
}
