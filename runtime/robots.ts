/**
 * `openflow-spec/robots`: queue request/reply (`rpc`) and invoking OpenRPA workflows (`invokeRobot`), typed by the
 * robot command schemas (`schemas/robot/`, https://github.com/openflow-spec/openflow-spec/blob/main/docs/protocol.md#robot-commands). A separate entry so the browser
 * bundle of an app that does not use them stays small. `withRobots(client)` (or this entry's `connect`) adds both
 * as methods: `client.rpc(queue, data)`, `client.invokeRobot(robot, workflowId, parameters)`.
 */
import { connect as connectClient, type OpenFlowClient } from "./client.js";
import type { ClientOptions } from "./core.js";
import { OpenFlowError, type ErrorCode } from "./errors.js";
import { isExpiredMessage, publishAndFollow, rpc, type RpcOptions } from "./rpc.js";
import type { DotNetException, RobotInvoke, RobotInvokeIdle, RobotInvokeSuccess, RobotTimeout } from "../generated/types.js";

export { rpc, isExpiredMessage, pendingRpcCalls, DEFAULT_RPC_TIMEOUT_MS, type RpcOptions, type RpcAnswer } from "./rpc.js";
export type { AnyRobotCommand, DotNetException, RobotCommandMap, RobotCommandName, RobotInvoke, RobotInvokeAborted, RobotInvokeCompleted, RobotInvokeFailed, RobotInvokeIdle, RobotInvokeSuccess, RobotTerminalCommandName, RobotTimeout, RobotError } from "../generated/types.js";

/** The busy answer of OpenRPA: the `error` text a robot nacks a delivery with, so that the broker redelivers it. */
export const ROBOT_BUSY_TEXT = "Sorry, I'm bussy";

/** A robot's queue: the robot user's `_id` (or an RPA role's `_id`), a queue name, or the robot user itself. */
export type RobotTarget = string | { readonly _id: string };

/** What `onStatus` receives: every robot message for the invocation that does not end it, and each expiry that is retried. */
export type RobotStatus = RobotInvokeSuccess | RobotInvokeIdle | RobotTimeout;

/** Options of `invokeRobot`. */
export interface InvokeRobotOptions {
  /** Called for `invokesuccess` (the robot started the workflow), `invokeidle`, and each `timeout` that is retried. */
  onStatus?: (status: RobotStatus) => void;
  /**
   * Give up (code "timeout") when no terminal answer (`invokecompleted`, `invokefailed`, `invokeaborted`, `error`)
   * arrived within this many ms: the whole run of the workflow. Default 600 000 (10 minutes).
   */
  timeoutMs?: number;
  /** Abort the wait: rejects with code "aborted" (the workflow keeps running on the robot). */
  signal?: AbortSignal;
  /**
   * How long the invoke may wait in the robot's queue (`expiration`, ms). A busy robot nacks the delivery with
   * "Sorry, I'm bussy" and the server redelivers it every amqp_requeue_time (1 s) until it expires; then the server
   * sends `timeout` back. Default 20 000.
   */
  expiration?: number;
  /**
   * How many times to publish the invoke again after it expired unconsumed (the robots stayed busy, or none was
   * online): bounded, default 2; then the call rejects with code "timeout".
   */
  retries?: number;
  /** Kill running instances of the same workflow first (`killexisting`). */
  killexisting?: boolean;
  /** Kill every running instance first (`killallexisting`). */
  killallexisting?: boolean;
  /** Keep the caller's token out of the invoke (`striptoken`, default true). */
  striptoken?: boolean;
}

/** The outcome named by a rejected invocation. */
export type RobotFailure = "failed" | "aborted" | "error" | "expired";

/**
 * Why `invokeRobot` rejected, when the robot (or the server) said so: `failure` is the robot command that ended it
 * (`invokefailed` → "failed", `invokeaborted` → "aborted", `error` → "error"; "expired": the invoke expired unconsumed
 * `retries + 1` times). Its `code` is one of the runtime's codes: "server" for the robot's answers, "timeout" for
 * expiry. `exception` is the robot's .NET exception, `answer` the whole robot command.
 */
export class RobotInvokeError extends OpenFlowError {
  override name = "RobotInvokeError";
  readonly failure: RobotFailure;
  readonly exception: DotNetException | undefined;
  readonly answer: unknown;
  readonly workflowId: string;

  constructor(code: ErrorCode, failure: RobotFailure, message: string, workflowId: string, answer: unknown) {
    const exception = exceptionOf(answer);
    super(code, message, { serverMessage: exception?.Message ?? undefined, details: answer });
    this.failure = failure;
    this.exception = exception;
    this.answer = answer;
    this.workflowId = workflowId;
  }
}

function exceptionOf(answer: unknown): DotNetException | undefined {
  const data = typeof answer === "object" && answer !== null ? (answer as { data?: unknown }).data : undefined;
  return typeof data === "object" && data !== null && !Array.isArray(data) && ("Message" in data || "ClassName" in data) ? (data as DotNetException) : undefined;
}

/** The robot's queue name for a target. */
export function robotQueueOf(target: RobotTarget): string {
  const name = typeof target === "string" ? target : target?._id;
  if (typeof name !== "string" || name === "") throw new OpenFlowError("usage", "invokeRobot: the robot must be a queue name, a user or role _id, or an object with an _id");
  return name;
}

/** The `data` of a terminal robot answer: the workflow's arguments after the run. */
export type RobotResult<T extends object = Record<string, unknown>> = T;

function bodyOf(data: unknown): { command?: unknown; data?: unknown } | undefined {
  if (typeof data === "string") {
    try {
      const parsed: unknown = JSON.parse(data);
      return typeof parsed === "object" && parsed !== null ? parsed : undefined;
    } catch {
      return data === "timeout" ? { command: "timeout" } : undefined;
    }
  }
  return typeof data === "object" && data !== null && !Array.isArray(data) ? (data as { command?: unknown; data?: unknown }) : undefined;
}

function messageOf(answer: { data?: unknown }, fallback: string): string {
  const exception = exceptionOf(answer);
  if (exception?.Message) return exception.Message;
  if (typeof answer.data === "string" && answer.data !== "") return answer.data;
  return fallback;
}

function nonNegativeInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0 || value > 100) throw new OpenFlowError("usage", `${name} must be an integer from 0 to 100, got ${String(value)}`);
  return value;
}

/**
 * Invoke a workflow on an OpenRPA robot and wait for its end, as OpenRPA's Invoke Remote OpenRPA activity and the
 * server's REST bridge do: publish `invoke` to the robot's queue with a reply queue and a correlation id, report
 * `invokesuccess`/`invokeidle` through `onStatus`, resolve with the workflow's arguments on `invokecompleted`.
 * Rejects with `RobotInvokeError` (code "server") on `invokefailed`, `invokeaborted` or `error`, with
 * `RobotInvokeError` (code "timeout") when the invoke expired unconsumed more than `retries` times, and with an
 * OpenFlowError "timeout" or "aborted" for `timeoutMs` and `signal`.
 */
export async function invokeRobot<T extends object = Record<string, unknown>>(
  client: OpenFlowClient,
  robot: RobotTarget,
  workflowId: string,
  parameters: Record<string, unknown> = {},
  options: InvokeRobotOptions = {},
): Promise<RobotResult<T>> {
  const queue = robotQueueOf(robot);
  if (typeof workflowId !== "string" || workflowId === "") throw new OpenFlowError("usage", "invokeRobot: workflowId must be a non-empty string (the workflow's _id or its project-relative file name)");
  if (typeof parameters !== "object" || parameters === null || Array.isArray(parameters)) throw new OpenFlowError("usage", "invokeRobot: parameters must be an object of the workflow's arguments by name");
  const retries = nonNegativeInteger("retries", options.retries, 2);
  const timeoutMs = options.timeoutMs ?? 600_000;
  if (typeof timeoutMs !== "number" || !(timeoutMs > 0)) throw new OpenFlowError("usage", `invokeRobot: timeoutMs must be a positive number of milliseconds, got ${String(timeoutMs)}`);
  const report = (status: RobotStatus): void => {
    try {
      options.onStatus?.(status);
    } catch (err) {
      throw new OpenFlowError("usage", `invokeRobot: onStatus threw: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  };
  const deadline = Date.now() + timeoutMs;
  const invoke: RobotInvoke = { command: "invoke", workflowid: workflowId, data: parameters };
  if (options.killexisting !== undefined) invoke.killexisting = options.killexisting;
  if (options.killallexisting !== undefined) invoke.killallexisting = options.killallexisting;
  for (let attempt = 0; ; attempt++) {
    // Set by the answer handler below (TypeScript cannot see the assignment inside the callback).
    let outcome = undefined as { kind: "done"; result: unknown } | { kind: "expired"; answer: unknown } | undefined;
    const left = deadline - Date.now();
    if (left <= 0) throw new OpenFlowError("timeout", `invokeRobot: ${workflowId} on ${queue} did not end within ${timeoutMs} ms`);
    const rpcOptions: RpcOptions = { timeoutMs: left, expiration: Math.min(options.expiration ?? 20_000, left) };
    if (options.signal) rpcOptions.signal = options.signal;
    if (options.striptoken !== undefined) rpcOptions.striptoken = options.striptoken;
    try {
      await publishAndFollow(client, queue, invoke, rpcOptions, ({ data }) => {
        const body = bodyOf(data);
        const command = typeof body?.command === "string" ? body.command : undefined;
        if (!body || command === undefined) return false; // not a robot command: not ours to judge
        if (command === "timeout") {
          outcome = { kind: "expired", answer: body };
          return true;
        }
        if (command === "invokecompleted") {
          outcome = { kind: "done", result: body.data ?? {} };
          return true;
        }
        if (command === "invokefailed") throw new RobotInvokeError("server", "failed", `${workflowId} failed on ${queue}: ${messageOf(body, "invoke failed")}`, workflowId, body);
        if (command === "invokeaborted") throw new RobotInvokeError("server", "aborted", `${workflowId} was aborted on ${queue}: ${messageOf(body, "invoke aborted")}`, workflowId, body);
        if (command === "error") throw new RobotInvokeError("server", "error", `robot ${queue} could not run ${workflowId}: ${messageOf(body, "error")}`, workflowId, body);
        if (command === "invokesuccess" || command === "invokeidle") report(body as RobotStatus);
        return false;
      });
    } catch (err) {
      if (err instanceof OpenFlowError && err.code === "timeout" && !(err instanceof RobotInvokeError)) {
        throw new OpenFlowError("timeout", `invokeRobot: ${workflowId} on ${queue} did not end within ${timeoutMs} ms`, { cause: err });
      }
      throw err;
    }
    if (outcome?.kind === "done") return outcome.result as RobotResult<T>;
    const answer = outcome?.answer;
    if (attempt >= retries) {
      throw new RobotInvokeError("timeout", "expired", `no robot on ${queue} picked up ${workflowId} in time (${attempt + 1} attempt${attempt === 0 ? "" : "s"}: the robots stayed busy or none was online)`, workflowId, answer);
    }
    if (isExpiredMessage(answer)) report(answer as RobotTimeout);
  }
}

/** The methods `withRobots` adds to a client. */
export interface RobotMethods {
  /** Queue request/reply: see `rpc`. */
  rpc<T = unknown>(queue: string, data: unknown, options?: RpcOptions): Promise<T>;
  /** Invoke an OpenRPA workflow and wait for its end: see `invokeRobot`. */
  invokeRobot<T extends object = Record<string, unknown>>(robot: RobotTarget, workflowId: string, parameters?: Record<string, unknown>, options?: InvokeRobotOptions): Promise<RobotResult<T>>;
}

/** A client with `rpc` and `invokeRobot`. */
export type RobotClient = OpenFlowClient & RobotMethods;

/** Add `rpc` and `invokeRobot` to a connected client (the same object is returned). */
export function withRobots(client: OpenFlowClient): RobotClient {
  const target = client as RobotClient;
  if (typeof target.rpc === "function" && typeof target.invokeRobot === "function") return target;
  Object.defineProperties(client, {
    rpc: { value: <T>(queue: string, data: unknown, options?: RpcOptions) => rpc<T>(client, queue, data, options), configurable: true },
    invokeRobot: {
      value: <T extends object>(robot: RobotTarget, workflowId: string, parameters?: Record<string, unknown>, options?: InvokeRobotOptions) => invokeRobot<T>(client, robot, workflowId, parameters, options),
      configurable: true,
    },
  });
  return target;
}

/** `connect` from the main entry, returning a client with `rpc` and `invokeRobot`. */
export async function connect(url: string, options: ClientOptions): Promise<RobotClient> {
  return withRobots(await connectClient(url, options));
}
