/**
 * Closed sets that servers compare case-insensitively (work item `state`): the wire schema takes any spelling and
 * `serve` answers a wrong one with the real server's own text; the authoring view (the closed request validator a
 * strict client runs) takes only the canonical values and says which.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type OpenFlowClient } from "../runtime/client.js";
import { OpenFlowError } from "../runtime/errors.js";
import { silentLogger } from "../runtime/logger.js";
import { validatePayload, validators } from "../runtime/validate.js";
import { startServer, type RunningServer } from "../server/index.js";

const ID = "65c3b2a1e4b0a1b2c3d4e801";
let server: RunningServer;
let plain: OpenFlowClient;
let strict: OpenFlowClient;

beforeAll(async () => {
  server = await startServer({ users: [{ username: "admin", password: "pw", roles: ["admins"] }], logger: silentLogger });
  plain = await connect(server.url, { credentials: { username: "admin", password: "pw" }, logger: silentLogger });
  strict = await connect(server.url, { credentials: { username: "admin", password: "pw" }, logger: silentLogger, validation: "strict", validators });
});

afterAll(async () => {
  plain?.close();
  strict?.close();
  await server?.close();
});

describe("work item state", () => {
  it("the wire schema takes any spelling; the closed (authoring) validator only the canonical values, and lists them", () => {
    for (const state of ["successful", "SUCCESSFUL", "succesful"]) expect(validatePayload("updateworkitem", "request", { _id: ID, state })).toEqual([]);
    expect(validatePayload("updateworkitem", "request", { _id: ID, state: "successful" }, { closed: true })).toEqual([]);
    expect(validatePayload("updateworkitem", "request", { _id: ID, state: null }, { closed: true })).toEqual([]);
    const issues = validatePayload("updateworkitem", "request", { _id: ID, state: "succesful" }, { closed: true });
    expect(issues.map((i) => [i.pointer, i.keyword])).toEqual([["/state", "enum"]]);
    expect(issues[0]?.message).toMatch(/^state must be one of new, processing, successful, retry, failed\b/);
    expect(issues[0]?.message).toContain('"succesful"');
  });

  it("a strict client refuses a misspelt state before sending; serve answers it with the real server's text; any case works on the wire", async () => {
    await plain.addWorkitemQueue({ name: "closed-sets", maxretries: 3, retrydelay: 0, initialdelay: 0 });
    await plain.addWorkitem({ wiq: "closed-sets", name: "one", payload: {} });
    const popped = await plain.popWorkitem({ wiq: "closed-sets" });
    const id = popped.result?._id as string;
    expect(id).toMatch(/\S/);

    let refused: unknown;
    try {
      await strict.updateWorkitem({ _id: id, state: "succesful" as never });
    } catch (err) {
      refused = err;
    }
    expect(OpenFlowError.is(refused, "validation")).toBe(true);
    expect((refused as Error).message).toContain("state must be one of new, processing, successful, retry, failed");

    let answered: unknown;
    try {
      await plain.updateWorkitem({ _id: id, state: "succesful" as never });
    } catch (err) {
      answered = err;
    }
    expect(OpenFlowError.is(answered, "server")).toBe(true);
    expect((answered as OpenFlowError).serverMessage ?? (answered as Error).message).toContain("Illegal state succesful on Workitem, must be failed, successful, processing or retry");

    const done = await plain.updateWorkitem({ _id: id, state: "Successful" as never });
    expect(done.result?.state).toBe("successful");
  });
});
