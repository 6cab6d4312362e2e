/**
 * The official client `@openiap/openflow-api` (2.1.12) against the local server: every promise resolves with the
 * expected data, and every frame the official client sends validates against our schemas (frame + payload).
 */
import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../server/index.js";
import { officialQuietLogger, validateRecorded, waitFor } from "./server-helpers.js";

// The api is CommonJS with static state (WebSocketClient.instance, callback tables); each vitest file runs in its
// own process (pool "forks"), so that state stays inside this file.
const require = createRequire(import.meta.url);
const api = require("@openiap/openflow-api") as any;
const { WebSocketClient, NoderedUtil, ApiConfig } = api;
ApiConfig.log_error = false;

const quiet = officialQuietLogger;
const clientFrames: string[] = [];
let server: RunningServer;
const clients: any[] = [];

/** Some api helpers serialize the `websocket` option into the payload (../docs/protocol.md#payload-fields): select by instance. */
function use(ws: any): void {
  WebSocketClient.instance = ws;
}

async function client(): Promise<any> {
  const ws = new WebSocketClient(quiet, server.url, true);
  clients.push(ws);
  await ws.Connect();
  return ws;
}


beforeAll(async () => {
  server = await startServer({
    users: [
      { username: "admin", password: "admin-pw", roles: ["admins"] },
      { username: "alice", password: "alice-pw" },
    ],
    onFrame: (direction, text) => {
      if (direction === "in") clientFrames.push(text);
    },
  });
});

afterAll(async () => {
  for (const ws of clients) ws.close();
  await server?.close();
});

describe("official @openiap/openflow-api client", () => {
  let admin: any;
  let jwt: string;

  it("signs in with username and password", async () => {
    admin = await client();
    use(admin);
    const reply = await NoderedUtil.SigninWithUsername({ username: "admin", password: "admin-pw" });
    expect(reply.user.username).toBe("admin");
    expect(reply.user.roles.map((r: any) => r.name)).toEqual(expect.arrayContaining(["admins", "users"]));
    expect(reply.websocket_package_size).toBe(25_000);
    expect(typeof reply.jwt).toBe("string");
    expect(reply.password).toBeUndefined();
    jwt = reply.jwt;
  });

  it("signs in with a token on a second connection", async () => {
    const second = await client();
    const reply = await NoderedUtil.SigninWithToken({ jwt, websocket: second });
    expect(reply.user._id).toBeTruthy();
    expect(reply.user.username).toBe("admin");
    const renewed = await NoderedUtil.RenewToken({ jwt, websocket: second, longtoken: true });
    expect(renewed.jwt).not.toBe(jwt);
  });

  it("rejects a wrong password", async () => {
    const other = await client();
    await expect(NoderedUtil.SigninWithUsername({ username: "admin", password: "nope", websocket: other })).rejects.toMatch(/failed logging in/);
  });

  it("inserts, queries, updates and deletes", async () => {
    use(admin);
    const inserted = await NoderedUtil.InsertOne({ collectionname: "entities", item: { _type: "test", name: "one", n: 1 } });
    expect(inserted._id).toMatch(/^[0-9a-f]{24}$/);
    expect(inserted._version).toBe(0);
    expect(inserted._createdby).toBe("admin");
    expect(inserted._acl.some((a: any) => a.name === "admins" && a.rights === 65535)).toBe(true);
    await NoderedUtil.InsertMany({ collectionname: "entities", items: [{ _type: "test", name: "two", n: 2 }, { _type: "test", name: "three", n: 3 }] });

    const found = await NoderedUtil.Query({ collectionname: "entities", query: { _type: "test", name: /^t/ }, orderby: { n: -1 } });
    expect(found.map((d: any) => d.name)).toEqual(["three", "two"]);
    expect(await NoderedUtil.Count({ collectionname: "entities", query: { _type: "test" } })).toBe(3);

    const updated = await NoderedUtil.UpdateOne({ collectionname: "entities", item: { ...inserted, n: 10 } });
    expect(updated.n).toBe(10);
    expect(updated._version).toBe(1);
    const upd = await NoderedUtil.UpdateMany({ collectionname: "entities", query: { _type: "test" }, item: { $inc: { n: 100 } } });
    expect(upd.opresult).toMatchObject({ matchedCount: 3, modifiedCount: 3 });
    const old = await NoderedUtil.GetDocumentVersion({ collectionname: "entities", id: inserted._id, version: 0 });
    expect(old.n).toBe(1);

    const upserted = await NoderedUtil.InsertOrUpdateOne({ collectionname: "entities", item: { _type: "test", name: "two", n: 22 }, uniqeness: "_type,name" });
    expect(upserted.n).toBe(22);
    expect(await NoderedUtil.Count({ collectionname: "entities", query: { _type: "test" } })).toBe(3);

    await NoderedUtil.DeleteOne({ collectionname: "entities", id: inserted._id });
    const deleted = await NoderedUtil.DeleteMany({ collectionname: "entities", query: { _type: "test" } });
    expect(deleted).toBe(2);
    expect(await NoderedUtil.Count({ collectionname: "entities", query: { _type: "test" } })).toBe(0);
    const collections = await NoderedUtil.ListCollections({});
    expect(collections.map((c: any) => c.name)).toContain("entities");
  });

  it("receives watch events", async () => {
    use(admin);
    let deliver: (e: any) => void = () => {};
    const events: any[] = [];
    const id = await NoderedUtil.Watch({
      collectionname: "entities",
      aggregates: ["$.[?(@._type == 'watched')]"],
      callback: (event: any) => {
        events.push(event);
        deliver(event);
      },
    });
    expect(typeof id).toBe("string");
    const arrived = waitFor<any>((resolve) => (deliver = resolve), 5_000, "watch event");
    await NoderedUtil.InsertOne({ collectionname: "entities", item: { _type: "unwatched", name: "u" } });
    await NoderedUtil.InsertOne({ collectionname: "entities", item: { _type: "watched", name: "w" } });
    const event = await arrived;
    expect(event.operationType).toBe("insert");
    expect(event.fullDocument.name).toBe("w");
    expect(events).toHaveLength(1);
    await NoderedUtil.UnWatch({ id });
  });

  it("runs a queue request/reply round trip between two clients", async () => {
    const worker = await client();
    await NoderedUtil.SigninWithUsername({ username: "alice", password: "alice-pw", websocket: worker });
    const workerQueue = await NoderedUtil.RegisterQueue({
      websocket: worker,
      queuename: "official.worker",
      callback: (msg: any, ack: (ok: boolean, result?: unknown) => void) => ack(true, { echoed: msg.data.text, by: msg.data.__user?.username }),
    });
    expect(workerQueue).toBe("official.worker");

    use(admin);
    let deliver: (m: any) => void = () => {};
    const replyQueue = await NoderedUtil.RegisterQueue({
      websocket: admin,
      queuename: "",
      callback: (msg: any, ack: (ok: boolean) => void) => {
        ack(true);
        deliver(msg);
      },
    });
    expect(replyQueue).toMatch(/^browser\./);
    const reply = waitFor<any>((resolve) => (deliver = resolve), 5_000, "queue reply");
    await NoderedUtil.Queue({ websocket: admin, queuename: "official.worker", replyto: replyQueue, data: { text: "ping?" }, correlationId: "c-1" });
    const msg = await reply;
    expect(msg.correlationId).toBe("c-1");
    expect(msg.data.echoed).toBe("ping?");
    expect(msg.data.by).toBe("admin");
    await NoderedUtil.CloseQueue({ websocket: admin, queuename: replyQueue });
  });

  it("adds, pops and completes work items", async () => {
    use(admin);
    const wiq = await NoderedUtil.AddWorkitemQueue({ name: "official-q", maxretries: 2, retrydelay: 0, initialdelay: 0 });
    expect(wiq.name).toBe("official-q");
    const item = await NoderedUtil.AddWorkitem({ wiq: "official-q", name: "job", payload: { x: 1 } });
    expect(item.state).toBe("new");
    const popped = await NoderedUtil.PopWorkitem({ wiq: "official-q" });
    expect(popped._id).toBe(item._id);
    expect(popped.state).toBe("processing");
    const retried = await NoderedUtil.UpdateWorkitem({ _id: popped._id, state: "retry", errormessage: "try again" });
    expect(retried.state).toBe("new");
    expect(retried.retries).toBe(1);
    const again = await NoderedUtil.PopWorkitem({ wiq: "official-q" });
    const failed = await NoderedUtil.UpdateWorkitem({ _id: again._id, state: "retry" });
    expect(failed.state).toBe("failed");
    expect(await NoderedUtil.PopWorkitem({ wiq: "official-q" })).toBeUndefined();
    await NoderedUtil.DeleteWorkitem({ _id: item._id });
    const q = await NoderedUtil.GetWorkitemQueue({ name: "official-q" });
    expect(q._id).toBe(wiq._id);
    await NoderedUtil.DeleteWorkitemQueue({ name: "official-q" });
  });

  it("saves and reads files", async () => {
    use(admin);
    const saved = await NoderedUtil.SaveFile({ filename: "notes/hello.txt", mimeType: "text/plain", file: Buffer.from("hello file").toString("base64"), metadata: { tag: "t" } });
    expect(saved.id).toMatch(/^[0-9a-f]{24}$/);
    const got = await NoderedUtil.GetFile({ id: saved.id });
    expect(Buffer.from(got.file, "base64").toString()).toBe("hello file");
    expect(got.metadata.name).toBe("hello.txt");
    expect(got.metadata.tag).toBe("t");
  });

  it("chunks in both directions at a small package size", async () => {
    const small = await startServer({ packageSize: 150, users: [{ username: "admin", password: "admin-pw", roles: ["admins"] }], onFrame: (d, t) => d === "in" && clientFrames.push(t) });
    try {
      const ws = new WebSocketClient(quiet, small.url, true);
      clients.push(ws);
      await ws.Connect();
      use(ws);
      const reply = await NoderedUtil.SigninWithUsername({ username: "admin", password: "admin-pw" });
      expect(reply.websocket_package_size).toBe(150);
      const text = "chunk ".repeat(200) + "ünïcödé";
      const inserted = await NoderedUtil.InsertOne({ collectionname: "big", item: { text } });
      expect(inserted.text).toBe(text);
      const found = await NoderedUtil.Query({ collectionname: "big", query: {} });
      expect(found[0].text).toBe(text);
      expect(clientFrames.filter((f) => JSON.parse(f).command === "insertone" && JSON.parse(f).count > 5).length).toBeGreaterThan(5);
      ws.close();
    } finally {
      use(admin);
      await small.close();
    }
  });

  it("sent only frames and payloads that validate against the schemas", () => {
    const { checked, commands, issues } = validateRecorded(clientFrames);
    expect(issues).toEqual([]);
    expect(checked).toBeGreaterThan(30);
    for (const c of ["signin", "query", "insertone", "updateone", "deleteone", "watch", "queuemessage", "queuemessage (reply)", "watchevent (reply)", "addworkitem", "popworkitem", "updateworkitem", "savefile", "getfile"]) {
      expect(commands).toContain(c);
    }
  });
});
