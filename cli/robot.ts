/**
 * `openflow-spec robot <url> --user NAME:PASSWORD --workflows FILE`: run a fake OpenRPA robot (../robot/) that
 * answers invokes from a script until SIGINT/SIGTERM, so flows and apps that invoke robots can be tested without
 * Windows (docs/robots.md). Signs in through the shared connection layer (./connection.ts). Exit 0 when stopped by
 * a signal, 1 when the server closed the connection, 2 for usage, connection and sign-in problems and a bad
 * workflows file.
 */
import { readFile } from "node:fs/promises";
import { parseWorkflowsText, startRobot, WorkflowsFileError, type RobotEvent } from "../robot/index.js";
import { textOption, type CommandSpec } from "./command.js";
import { checkServerUrl, ConnectionFailed, connectionOptions, EXIT_CANNOT_RUN, EXIT_FAILED, EXIT_OK, openConnection, requireSignIns } from "./connection.js";
import { UsageError } from "./usage.js";

function describe(event: RobotEvent): string {
  switch (event.type) {
    case "invoke":
      return `invoke ${event.workflowid} (correlation ${event.correlationId}): started ${event.instanceId}`;
    case "busy":
      return `invoke ${event.workflowid} (correlation ${event.correlationId}): busy, nacked for redelivery`;
    case "unknown-workflow":
      return `invoke ${event.workflowid} (correlation ${event.correlationId}): unknown workflow, answered error`;
    case "ended":
      return `${event.workflowid} (correlation ${event.correlationId}): ${event.outcome}`;
    case "killed":
      return `kill ${event.workflowid ?? "all"}: ${event.count} instance(s) aborted`;
    case "publish-failed":
      return `could not publish ${event.command}: ${event.error}`;
  }
}

export const command: CommandSpec = {
  name: "robot",
  usage: "<url> --user NAME:PASSWORD --workflows FILE",
  description: [
    "Run a fake OpenRPA robot: sign in, consume the robot's queue (its user _id, and the queues of its roles marked",
    "rparole, as OpenRPA does) and answer robot commands inside queuemessage data from the workflows file: invoke ->",
    "invokesuccess -> invokecompleted | invokefailed | invokeaborted, error for an unknown workflow, the busy nack",
    "\"Sorry, I'm bussy\", killworkflow and killallworkflows. Runs until SIGINT or SIGTERM. The workflows file format",
    "is in docs/robots.md.",
  ].join("\n"),
  options: {
    ...connectionOptions,
    workflows: { type: "string", valueName: "FILE", description: "the workflows file (JSON): which workflows the robot knows and how each run ends" },
    quiet: { type: "boolean", description: "print only the ready line, not one line per event" },
  },
  positionals: { min: 1, max: 1 },
  epilog: "exit codes: 0 stopped by a signal, 1 the server closed the connection, 2 usage, connection, sign-in or workflows file problem",
  async run(args, io) {
    const url = checkServerUrl(args.positionals[0]);
    const signIn = requireSignIns(args.values)[0];
    if (!signIn) throw new UsageError("needs a sign-in");
    const file = textOption(args.values, "workflows", "a file name");
    if (file === undefined) throw new UsageError("needs --workflows FILE (see docs/robots.md for the format)");
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      throw new UsageError(`cannot read --workflows ${file}: ${(err as Error).message}`);
    }
    let workflows;
    try {
      workflows = parseWorkflowsText(text);
    } catch (err) {
      if (err instanceof WorkflowsFileError) throw new UsageError(`--workflows ${file}: ${err.message}`);
      throw err;
    }
    let client;
    try {
      client = await openConnection(url, signIn, { signin: { clientagent: "openrpa" } });
    } catch (err) {
      if (err instanceof ConnectionFailed) {
        io.stderr(`openflow-spec robot: ${err.message}\n`);
        return EXIT_CANNOT_RUN;
      }
      throw err;
    }
    const quiet = args.values["quiet"] === true;
    let robot;
    try {
      robot = await startRobot({ client, workflows, onEvent: (event) => quiet || io.stdout(`${describe(event)}\n`) });
    } catch (err) {
      client.close();
      io.stderr(`openflow-spec robot: cannot register the robot's queues: ${(err as Error).message}\n`);
      return EXIT_CANNOT_RUN;
    }
    const running = robot;
    let stopping = false;
    // Signal handlers go in before the ready line: whoever waits for "ready" may signal at once.
    const bySignal = new Promise<number>((resolve) => {
      const stop = (signal: string): void => {
        process.off("SIGINT", onInt);
        process.off("SIGTERM", onTerm);
        stopping = true;
        io.stdout(`${signal}: stopping\n`);
        void running.close().then(() => resolve(EXIT_OK));
      };
      const onInt = (): void => stop("SIGINT");
      const onTerm = (): void => stop("SIGTERM");
      process.on("SIGINT", onInt);
      process.on("SIGTERM", onTerm);
    });
    // Closing on a signal closes the connection too: only a close nobody asked for is a failure.
    const lost = running.stopped.then(() => (stopping ? bySignal : EXIT_FAILED));
    io.stdout(`robot ${signIn.label} consuming ${running.queues.join(", ")} with ${workflows.workflows.length} workflow(s): ${workflows.workflows.map((w) => w.id).join(", ")}\n`);
    io.stdout("ready (Ctrl+C to stop)\n");
    const code = await Promise.race([bySignal, lost]);
    if (code === EXIT_FAILED && !stopping) io.stderr("openflow-spec robot: the server closed the connection\n");
    return code;
  },
};


