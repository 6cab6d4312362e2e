/** Thrown by subcommands for bad arguments; the dispatcher prints the message and exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
}
