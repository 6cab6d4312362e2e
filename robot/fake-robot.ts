/**
 * A fake OpenRPA robot for tests and demos (docs/robots.md): it signs in, registers its queues as OpenRPA does (the
 * robot user's `_id`, and the `_id` of each of its roles marked `rparole`), and answers robot commands inside
 * `queuemessage` data from a script (./workflows.ts) instead of running Windows workflows: `invoke` → `invokesuccess`
 * → (`invokeidle`) → `invokecompleted` | `invokefailed` | `invokeaborted`, `error` for an unknown workflow, the busy
 * nack "Sorry, I'm bussy" (the server then redelivers), `killworkflow` and `killallworkflows`. The shapes are those of
 * schemas/robot/ (docs/protocol.md#robot-commands), with every field OpenRPA's RobotCommand class serializes.
 */
import { connect, type OpenFlowClient, type QueueConsumer } from "../runtime/client.js";
import type { ClientOptions } from "../runtime/core.js";
import { OpenFlowError } from "../runtime/errors.js";
import { silentLogger } from "../runtime/logger.js";
import { ROBOT_BUSY_TEXT } from "../runtime/robots.js";
import type { QueueDelivery } from "../runtime/subscriptions.js";
import type { DotNetException, RobotCommandMap } from "../generated/types.js";
import { bodyOf } from "../validator/robot.js";
import { parseWorkflows, type ScriptedWorkflow, type WorkflowsFile } from "./workflows.js";

/** What happened on the robot, in order (for logs and tests). */
export type RobotEvent =
  | { type: "invoke"; workflowid: string; correlationId: string; instanceId: string }
  | { type: "busy"; workflowid: string; correlationId: string }
  | { type: "unknown-workflow"; workflowid: string; correlationId: string }
  | { type: "ended"; workflowid: string; correlationId: string; instanceId: string; outcome: string }
  | { type: "killed"; workflowid: string | null; count: number }
  | { type: "publish-failed"; command: string; error: string };

/** What the robot does, whichever way it connects. */
export interface RobotScriptOptions {
  /** The script: a parsed workflows file (or the value to check, e.g. JSON.parse of the file). */
  workflows: WorkflowsFile | unknown;
  /** Also consume the queues of the robot's roles marked `rparole` (as OpenRPA does). Default true. */
  roleQueues?: boolean;
  /** Called for every event. */
  onEvent?: (event: RobotEvent) => void;
}

/**
 * `startRobot` options: the script, and either a server URL with the robot's sign-in (and any client options; the
 * robot signs in with clientagent "openrpa") or an already signed-in `client` (the CLI's connection layer opens it).
 * `close()` closes the client either way.
 */
export type RobotOptions = RobotScriptOptions &
  ({ client: OpenFlowClient } | (Omit<Partial<ClientOptions>, "credentials"> & { url: string; credentials: ClientOptions["credentials"] }));

/** A running fake robot. */
export interface FakeRobot {
  /** Resolves when the robot's connection is lost for good (a client without reconnect), or after `close()`. */
  readonly stopped: Promise<void>;
  /** The signed-in robot client. */
  readonly client: OpenFlowClient;
  /** The robot's own queue: its user `_id` (what callers invoke). */
  readonly queuename: string;
  /** Every queue it consumes (its own first, then its RPA roles'). */
  readonly queues: readonly string[];
  /** Every event so far. */
  readonly events: readonly RobotEvent[];
  /** Instances running now. */
  readonly running: number;
  /** Stop: running instances are dropped without an answer, the queues closed, the client closed. */
  close(): Promise<void>;
}

interface Instance {
  id: string;
  workflow: ScriptedWorkflow;
  invoke: Record<string, unknown>;
  parameters: Record<string, unknown>;
  replyto: string | undefined;
  correlationId: string;
  timers: ReturnType<typeof setTimeout>[];
}

/** The fields OpenRPA's RobotCommand class always serializes (openrpa-latest), so answers look like a real robot's. */
function robotCommand<K extends keyof RobotCommandMap>(command: K, fields: Partial<RobotCommandMap[K]> & Record<string, unknown>): RobotCommandMap[K] {
  return { workflowid: null, flowid: null, nodeId: null, detectorid: null, killexisting: false, killallexisting: false, traceId: null, spanId: null, data: null, ...fields, command } as unknown as RobotCommandMap[K];
}

/** A .NET exception as Json.NET serializes it. */
function exception(message: string, className = "System.Exception"): DotNetException {
  return { ClassName: className, Message: message, Data: null, InnerException: null, HelpURL: null, StackTraceString: null, RemoteStackTraceString: null, RemoteStackIndex: 0, ExceptionMethod: null, HResult: -2146233088, Source: "openflow-spec fake robot", WatsonBuckets: null };
}


/** The workflow's arguments from an invoke's data: the `payload` key when there is one (as OpenRPA reads it). */
function parametersOf(data: unknown): Record<string, unknown> {
  const d = bodyOf(data) ?? {};
  const payload = d["payload"];
  const args = typeof payload === "object" && payload !== null && !Array.isArray(payload) ? (payload as Record<string, unknown>) : d;
  const { __jwt: _jwt, __user: _user, jwt: _j, ...rest } = args;
  return rest;
}

let instanceCounter = 0;

/** Start a fake robot: sign in, register the queues, answer invokes from the script until `close()`. */
export async function startRobot(options: RobotOptions): Promise<FakeRobot> {
  const script = parseWorkflows(options.workflows);
  const concurrency = script.concurrency ?? 1;
  const allowKill = script.allowKill ?? true;
  const { roleQueues, onEvent } = options;
  let client: OpenFlowClient;
  if ("client" in options) {
    client = options.client;
  } else {
    const { url, credentials, workflows: _w, roleQueues: _r, onEvent: _e, ...clientOptions } = options;
    client = await connect(url, { logger: silentLogger, ...clientOptions, credentials, signin: { clientagent: "openrpa", ...clientOptions.signin } });
  }
  const user = client.user;
  if (!user?._id) {
    client.close();
    throw new OpenFlowError("auth", "the robot signed in but the server sent no user id");
  }
  const events: RobotEvent[] = [];
  const emit = (event: RobotEvent): void => {
    if (events.length < 10_000) events.push(event);
    onEvent?.(event);
  };
  const running = new Map<string, Instance>();
  /** Deliveries seen per correlation id (for scripted busy answers); bounded. */
  const deliveries = new Map<string, number>();
  const consumers: QueueConsumer[] = [];
  let closed = false;

  const find = (id: string): ScriptedWorkflow | undefined =>
    script.workflows.find((w) => w.id === id) ?? script.workflows.find((w) => w.name !== undefined && w.name.toLowerCase() === id.toLowerCase());

  const publish = (replyto: string | undefined, queuename: string, correlationId: string | undefined, body: unknown): void => {
    // OpenRPA answers only when there is a reply queue that is not the queue the message came from.
    if (!replyto || replyto === queuename || closed) return;
    const command = String((body as { command?: unknown }).command);
    client.requestUntyped("queuemessage", { queuename: replyto, correlationId: correlationId ?? null, data: body, striptoken: true }).catch((err: unknown) => {
      emit({ type: "publish-failed", command, error: OpenFlowError.from(err).message });
    });
  };

  const end = (instance: Instance, queuename: string): void => {
    if (!running.delete(instance.id)) return;
    const w = instance.workflow;
    const outcome = w.outcome ?? "completed";
    const workflowid = String(instance.invoke["workflowid"]);
    if (outcome === "completed") {
      publish(instance.replyto, queuename, instance.correlationId, robotCommand("invokecompleted", { workflowid, data: { ...instance.parameters, ...(w.output ?? {}) } }));
    } else if (outcome === "failed") {
      publish(instance.replyto, queuename, instance.correlationId, robotCommand("invokefailed", { workflowid, data: exception(w.message ?? `${w.name ?? w.id} failed`) }));
    } else if (outcome === "aborted") {
      publish(instance.replyto, queuename, instance.correlationId, robotCommand("invokeaborted", { workflowid, data: exception(w.message ?? "Aborted") }));
    } else {
      publish(instance.replyto, queuename, instance.correlationId, robotCommand("error", { workflowid: null, data: exception(w.message ?? "Error", "System.ArgumentException") }));
    }
    emit({ type: "ended", workflowid, correlationId: instance.correlationId, instanceId: instance.id, outcome });
  };

  const abort = (instance: Instance, queuename: string, reason: string): void => {
    if (!running.delete(instance.id)) return;
    for (const t of instance.timers) clearTimeout(t);
    const workflowid = String(instance.invoke["workflowid"]);
    publish(instance.replyto, queuename, instance.correlationId, robotCommand("invokeaborted", { workflowid, data: exception(reason) }));
    emit({ type: "ended", workflowid, correlationId: instance.correlationId, instanceId: instance.id, outcome: "aborted" });
  };

  const onInvoke = (delivery: QueueDelivery, body: Record<string, unknown>): void => {
    const workflowid = body["workflowid"];
    // OpenRPA acts only on an invoke with a workflow id; anything else is acked and ignored.
    if (typeof workflowid !== "string" || workflowid === "") return;
    const correlationId = delivery.correlationId ?? "";
    const workflow = find(workflowid);
    if (!workflow) {
      emit({ type: "unknown-workflow", workflowid, correlationId });
      publish(delivery.replyto, delivery.queuename, delivery.correlationId, robotCommand("error", { data: exception(`Unknown workflow ${workflowid}`, "System.ArgumentException") }));
      return;
    }
    const seen = (deliveries.get(correlationId) ?? 0) + 1;
    if (deliveries.size >= 10_000 && !deliveries.has(correlationId)) deliveries.delete(deliveries.keys().next().value as string);
    deliveries.set(correlationId, seen);
    const scriptedBusy = workflow.busy === true || (typeof workflow.busy === "number" && seen <= workflow.busy);
    if (scriptedBusy || running.size >= concurrency) {
      emit({ type: "busy", workflowid, correlationId });
      // The nack: the server puts the message back and delivers it again after amqp_requeue_time.
      delivery.nack(ROBOT_BUSY_TEXT);
      return;
    }
    const instance: Instance = {
      id: `fake-instance-${++instanceCounter}`,
      workflow,
      invoke: body,
      parameters: parametersOf(body["data"]),
      replyto: delivery.replyto,
      correlationId,
      timers: [],
    };
    running.set(instance.id, instance);
    emit({ type: "invoke", workflowid, correlationId, instanceId: instance.id });
    const { __jwt: _jwt, __user: _user, ...echo } = body;
    publish(delivery.replyto, delivery.queuename, delivery.correlationId, robotCommand("invokesuccess", { ...echo, workflowid } as never));
    const delay = workflow.delayMs ?? 0;
    if (workflow.idle) {
      instance.timers.push(
        setTimeout(() => {
          if (running.has(instance.id)) publish(instance.replyto, delivery.queuename, correlationId, robotCommand("invokeidle", { workflowid, data: instance.parameters }));
        }, Math.floor(delay / 2)),
      );
    }
    instance.timers.push(setTimeout(() => end(instance, delivery.queuename), delay));
  };

  const onKill = (delivery: QueueDelivery, body: Record<string, unknown>, all: boolean): void => {
    const workflowid = typeof body["workflowid"] === "string" && body["workflowid"] !== "" ? body["workflowid"] : null;
    const data = bodyOf(body["data"]) ?? {};
    if (!all && workflowid === null) {
      publish(delivery.replyto, delivery.queuename, delivery.correlationId, robotCommand("error", { data: exception("expect workflow id", "System.ArgumentException") }));
      return;
    }
    if (!allowKill) {
      publish(delivery.replyto, delivery.queuename, delivery.correlationId, robotCommand("error", { data: exception(`${all ? "kill all" : "kill workflow"} not allowed for ${user.username ?? user.name} running on fake-robot`) }));
      return;
    }
    const instanceid = typeof data["instanceid"] === "string" ? data["instanceid"] : undefined;
    let count = 0;
    for (const instance of [...running.values()]) {
      if (!all && (instance.invoke["workflowid"] !== workflowid || (instanceid !== undefined && instance.id !== instanceid))) continue;
      abort(instance, delivery.queuename, all ? "Killed remotly by killallworkflows command" : "Killed remotly by killworkflow command");
      count++;
    }
    emit({ type: "killed", workflowid, count });
    const reply = all ? robotCommand("killallworkflowssuccess", { data }) : robotCommand("killworkflowsuccess", { workflowid, data });
    publish(delivery.replyto, delivery.queuename, delivery.correlationId, reply);
  };

  const handler = (delivery: QueueDelivery): void => {
    const body = bodyOf(delivery.data);
    const command = body?.["command"];
    if (!body || typeof command !== "string") return;
    if (command === "invoke") onInvoke(delivery, body);
    else if (command === "killworkflow") onKill(delivery, body, false);
    else if (command === "killallworkflows") onKill(delivery, body, true);
    // Statuses of workflows this robot invoked elsewhere, detector events, ...: acked, nothing to do here.
  };

  try {
    consumers.push(await client.consumeQueue(user._id, handler));
    const roles = user.roles ?? [];
    if (roleQueues !== false && roles.length > 0) {
      const ids = roles.map((r) => r._id);
      const reply = (await client.requestUntyped("query", { collectionname: "users", query: { _id: { $in: ids }, _type: "role", rparole: true }, projection: { _id: 1 }, top: 100 })) as { result?: { _id?: unknown }[] } | null;
      for (const role of reply?.result ?? []) if (typeof role._id === "string") consumers.push(await client.consumeQueue(role._id, handler));
    }
  } catch (err) {
    client.close();
    throw err;
  }

  const stopped = new Promise<void>((resolve) => {
    client.onStateChange((change) => {
      if (change.state === "closed") resolve();
    });
  });
  return {
    client,
    stopped,
    queuename: user._id,
    get queues() {
      return consumers.map((c) => c.queuename);
    },
    events,
    get running() {
      return running.size;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const instance of running.values()) for (const t of instance.timers) clearTimeout(t);
      running.clear();
      client.close();
    },
  };
}
