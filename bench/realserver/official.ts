/**
 * Drives a real OpenFlow server with the official client, `@openiap/openflow-api` (a dev dependency), for the
 * real-server fixtures. Not part of `npm test`: it needs a running server-latest and an admin account.
 *
 *   npx tsx bench/realserver/official.ts <ws-url> <admin-user> <admin-password>
 *
 * Each call's outcome is printed as one JSON line.
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const api = require("@openiap/openflow-api") as any;
const { WebSocketClient, NoderedUtil, ApiConfig } = api;
ApiConfig.log_error = false;
ApiConfig.log_information = false;

const [url, user, password] = process.argv.slice(2);
if (!url || !user || password === undefined) {
  process.stderr.write("usage: official.ts <ws-url> <admin-user> <admin-password>\n");
  process.exit(2);
}
const RUN = `ofsoff${Date.now().toString(36)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quiet = { info() {}, warn() {}, error() {}, verbose() {}, silly() {}, debug() {} };

async function step(name: string, fn: () => Promise<unknown>): Promise<unknown> {
  await sleep(60);
  try {
    const result = await fn();
    const text = JSON.stringify(result) ?? "null";
    process.stdout.write(`${JSON.stringify({ step: name, ok: true, result: text.length > 200 ? `${text.slice(0, 200)}…` : JSON.parse(text) })}\n`);
    return result;
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ step: name, ok: false, error: err instanceof Error ? err.message : String(err) })}\n`);
    return undefined;
  }
}

const ws = new WebSocketClient(quiet, url, true);
ws.agent = "openflow-api-realserver";
await ws.Connect();
WebSocketClient.instance = ws;
const signed = (await step("signin", () => NoderedUtil.SigninWithUsername({ username: user, password }))) as { jwt?: string } | undefined;
if (signed?.jwt) await step("signin with token", () => NoderedUtil.SigninWithToken({ jwt: signed.jwt }));
const col = `${RUN}_docs`;
const inserted = (await step("insertone", () => NoderedUtil.InsertOne({ collectionname: col, item: { _type: "test", name: "one", n: 1 } }))) as { _id?: string } | undefined;
await step("insertmany", () => NoderedUtil.InsertMany({ collectionname: col, items: [{ _type: "test", name: "two", n: 2 }, { _type: "test", name: "three", n: 3 }] }));
await step("query regex", () => NoderedUtil.Query({ collectionname: col, query: { _type: "test", name: /^t/ }, orderby: { n: -1 } }));
await step("count", () => NoderedUtil.Count({ collectionname: col, query: { _type: "test" } }));
await step("aggregate", () => NoderedUtil.Aggregate({ collectionname: col, aggregates: [{ $match: { _type: "test" } }, { $limit: 2 }] }));
if (inserted?._id) {
  await step("updateone", () => NoderedUtil.UpdateOne({ collectionname: col, item: { ...inserted, n: 10 } }));
  await step("getdocumentversion", () => NoderedUtil.GetDocumentVersion({ collectionname: col, id: inserted._id, version: 0 }));
}
await step("updatemany", () => NoderedUtil.UpdateMany({ collectionname: col, query: { _type: "test" }, item: { $inc: { n: 100 } } }));
await step("insertorupdateone", () => NoderedUtil.InsertOrUpdateOne({ collectionname: col, item: { _type: "test", name: "two", n: 22 }, uniqeness: "_type,name" }));
await step("insertorupdatemany", () => NoderedUtil.InsertOrUpdateMany({ collectionname: col, items: [{ _type: "test", name: "four", n: 4 }], uniqeness: "_type,name" }));
await step("listcollections", () => NoderedUtil.ListCollections({}));
const events: unknown[] = [];
const watchId = (await step("watch", () => NoderedUtil.Watch({ collectionname: col, aggregates: [], callback: (e: unknown) => void events.push(e) }))) as string | undefined;
await step("insert for watch", () => NoderedUtil.InsertOne({ collectionname: col, item: { _type: "watched", name: "w" } }));
for (let i = 0; i < 50 && events.length === 0; i++) await sleep(100);
await step("watch events", async () => events.length);
if (watchId) await step("unwatch", () => NoderedUtil.UnWatch({ id: watchId }));
if (inserted?._id) await step("deleteone", () => NoderedUtil.DeleteOne({ collectionname: col, id: inserted._id }));
await step("deletemany", () => NoderedUtil.DeleteMany({ collectionname: col, query: { _type: "test" } }));

// Queues: a consumer that answers and a request with replyto, on one connection.
const replies: unknown[] = [];
const worker = (await step("registerqueue worker", () =>
  NoderedUtil.RegisterQueue({ queuename: `${RUN}_worker`, callback: (msg: { data: unknown }, ack: (ok: boolean, result?: unknown) => void) => ack(true, { echoed: msg.data }) }),
)) as string | undefined;
const inbox = (await step("registerqueue inbox", () =>
  NoderedUtil.RegisterQueue({ queuename: "", callback: (msg: { data: unknown }, ack: (ok: boolean) => void) => { replies.push(msg.data); ack(true); } }),
)) as string | undefined;
if (worker && inbox) {
  await step("queuemessage", () => NoderedUtil.Queue({ queuename: worker, replyto: inbox, data: { text: "hi" }, striptoken: true }));
  for (let i = 0; i < 50 && replies.length === 0; i++) await sleep(100);
  await step("reply arrived", async () => replies.length);
  await step("closequeue", () => NoderedUtil.CloseQueue({ queuename: worker }));
}

// Work items and files.
const wiq = `${RUN}_wiq`;
await step("addworkitemqueue", () => NoderedUtil.AddWorkitemQueue({ name: wiq, maxretries: 2, retrydelay: 0, initialdelay: 0 }));
await step("getworkitemqueue", () => NoderedUtil.GetWorkitemQueue({ name: wiq }));
await step("addworkitem", () => NoderedUtil.AddWorkitem({ wiq, name: "job", payload: { n: 1 } }));
await step("addworkitems", () => NoderedUtil.AddWorkitems({ wiq, items: [{ name: "job 2", payload: { n: 2 } }] }));
const popped = (await step("popworkitem", () => NoderedUtil.PopWorkitem({ wiq }))) as { _id?: string } | undefined;
if (popped?._id) {
  await step("updateworkitem", () => NoderedUtil.UpdateWorkitem({ _id: popped._id, state: "successful" }));
  await step("deleteworkitem", () => NoderedUtil.DeleteWorkitem({ _id: popped._id }));
}
await step("deleteworkitemqueue", () => NoderedUtil.DeleteWorkitemQueue({ wiq, purge: true }));
const saved = (await step("savefile", () => NoderedUtil.SaveFile({ filename: `${RUN}.txt`, mimeType: "text/plain", metadata: {}, file: Buffer.from("hello").toString("base64") }))) as { _id?: string; id?: string } | undefined;
const fileId = saved?._id ?? saved?.id;
if (fileId) await step("getfile", () => NoderedUtil.GetFile({ id: fileId }));
await step("customcommand", () => NoderedUtil.CustomCommand({ command: "getclients" }));
await step("getkubenodelabels", () => NoderedUtil.GetKubeNodeLabels({}));
ws.close(1000, "done");
process.exit(0);
