/**
 * Pushes: the commands a server starts on a connection that `call --listen` and `shell` print (queue and exchange
 * deliveries, watch events, a closed queue). A delivery is acknowledged (answered with its own data, as the
 * official client does) once printed. What is printed has its secret fields replaced unless asked otherwise:
 * a delivery carries the sender's `__jwt`.
 */
import type { OpenFlowClient } from "../runtime/index.js";
import { redactValue } from "../validator/redact.js";
import { secretFieldNames } from "../validator/secrets.js";

/** The server-started commands printed as pushes. */
export const PUSH_COMMANDS = ["queuemessage", "watchevent", "queueclosed", "exchangeclosed"] as const;

export interface Push {
  command: string;
  payload: unknown;
}

/** Calls `onPush` for every push on `client`; returns a function that stops listening. */
export function onPushes(client: OpenFlowClient, onPush: (push: Push) => void): () => void {
  const offs = PUSH_COMMANDS.map((command) =>
    client.onCommand(command, (payload) => {
      onPush({ command, payload });
      return undefined;
    }),
  );
  return () => {
    for (const off of offs) off();
  };
}

/** `value` with secret fields replaced by "[redacted]" (unless `show` is set). */
export function forOutput(value: unknown, show = false): unknown {
  return show ? value : redactValue(value, secretFieldNames());
}
