/**
 * The base class of `OpenFlowClient`: the generated typed command methods. This indirection keeps the one
 * import of generated code in one place.
 */
export { OpenFlowCommands } from "../generated/client.js";
