/**
 * The base class of `OpenFlowClient`. Re-exports the generated typed command methods when they exist; this
 * indirection keeps the one import of generated code in one place.
 */
import type { PushCore, RequestCore } from "./symbols.js";

/** Placeholder until generated/client.ts lands: holds the core, adds no methods. */
export class OpenFlowCommands {
  constructor(_core: RequestCore & PushCore) {}
}
