/**
 * Drives a real OpenFlow server with this project's client, for the real-server fixtures
 * (test/fixtures/real-server-latest/README.md says how they were made). Not part of `npm test`: it needs a running
 * server-latest and an admin account.
 *
 *   npx tsx bench/realserver/drive.ts <ws-url> <admin-user> <admin-password> [--only flows|examples]
 *
 * Two passes, each on its own connection:
 * - flows: realistic sequences with the typed client (documents, history, queues and request/reply, exchanges,
 *   watches, work items, files, collections, customers, admin commands that need infrastructure);
 * - examples: every request example of every client-started command that server-latest marks at all, sent as
 *   written in the spec (collections and queues renamed with a run prefix), one at a time, paced under the server's
 *   default rate limit (30 per second).
 * Every call's outcome (reply or error text) is printed as one JSON line: the raw data for the fixtures' README.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { connect, OpenFlowError, type OpenFlowClient } from "../../runtime/index.js";

const [url, user, password] = process.argv.slice(2);
const only = process.argv.includes("--only") ? process.argv[process.argv.indexOf("--only") + 1] : undefined;
if (!url || !user || password === undefined) {
  process.stderr.write("usage: drive.ts <ws-url> <admin-user> <admin-password> [--only flows|examples]\n");
  process.exit(2);
}
const RUN = `ofsrs${Date.now().toString(36)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

async function step(name: string, fn: () => Promise<unknown>): Promise<unknown> {
  await sleep(60); // under 30 requests a second with the heartbeat's own
  try {
    const result = await fn();
    process.stdout.write(`${JSON.stringify({ step: name, ok: true, result: summary(result) })}\n`);
    return result;
  } catch (err) {
    const e = err as OpenFlowError;
    process.stdout.write(`${JSON.stringify({ step: name, ok: false, code: e.code, error: e.serverMessage ?? e.message })}\n`);
    return undefined;
  }
}

function summary(value: unknown): unknown {
  const text = JSON.stringify(value);
  return text === undefined ? null : text.length > 300 ? `${text.slice(0, 300)}…` : JSON.parse(text);
}

async function open(): Promise<OpenFlowClient> {
  return connect(url as string, { username: user as string, password: password as string, logger: quiet, reconnect: false, signin: { clientagent: "openflow-spec-realserver" } });
}

async function flows(): Promise<void> {
  const c = await open();
  const col = `${RUN}_docs`;
  const inserted = (await step("insertone", () => c.insertOne({ collectionname: col, item: { _type: "note", name: "first", value: 1 } }))) as { result?: { _id: string } } | undefined;
  const id = inserted?.result?._id ?? "";
  await step("insertmany", () => c.insertMany({ collectionname: col, items: [{ _type: "note", name: "a", value: 2 }, { _type: "note", name: "b", value: 3 }] }));
  await step("query", () => c.query({ collectionname: col, query: { _type: "note" }, top: 10, orderby: { name: 1 } }));
  await step("query projection", () => c.query({ collectionname: col, query: {}, projection: { name: 1 }, top: 2, skip: 1 }));
  await step("count", () => c.count({ collectionname: col, query: { _type: "note" } }));
  await step("aggregate", () => c.aggregate({ collectionname: col, aggregates: [{ $match: { _type: "note" } }, { $group: { _id: "$_type", total: { $sum: "$value" } } }] }));
  await step("updateone", () => c.updateOne({ collectionname: col, item: { _id: id, _type: "note", name: "first", value: 10 } }));
  await step("updatemany", () => c.updateMany({ collectionname: col, query: { _type: "note" }, item: { $set: { done: true } } }));
  await step("insertorupdateone", () => c.insertOrUpdateOne({ collectionname: col, uniqeness: "name", item: { _type: "note", name: "first", value: 11 } }));
  await step("insertorupdatemany", () => c.insertOrUpdateMany({ collectionname: col, uniqeness: "name", items: [{ _type: "note", name: "a", value: 20 }, { _type: "note", name: "c", value: 30 }] }));
  await step("getdocumentversion", () => c.getDocumentVersion({ collectionname: col, id, version: 0 }));
  await step("query history", () => c.query({ collectionname: `${col}_hist`, query: {}, top: 10 }));
  await step("listcollections", () => c.listCollections({ includehist: false }));
  // Larger than the server's package size (25000 by default): the request and the reply travel in chunks.
  const big = "x".repeat(60_000) + "é€😀";
  await step("insertone chunked", () => c.insertOne({ collectionname: col, item: { _type: "big", name: "big", text: big } }).then((r) => (r.result as { text?: string } | undefined)?.text?.length));
  await step("query chunked", () => c.query({ collectionname: col, query: { _type: "big" }, top: 1 }).then((r) => (r.result?.[0] as { text?: string } | undefined)?.text === big));
  await step("deleteone", () => c.deleteOne({ collectionname: col, id }));
  await step("deletemany", () => c.deleteMany({ collectionname: col, query: { _type: "note" } }));
  await step("createcollection", () => c.createCollection({ collectionname: `${RUN}_made` }));
  await step("dropcollection", () => c.dropCollection({ collectionname: `${RUN}_made` }));

  // Queues: a consumer that answers, a request with replyto, an exchange.
  const replies: unknown[] = [];
  const server = await c.consumeQueue(`${RUN}_svc`, async (msg) => ({ echoed: msg.data }));
  const inbox = await c.consumeQueue("", async (msg) => void replies.push(msg.data));
  await step("queuemessage request/reply", async () => {
    await c.queueMessage({ queuename: server.queuename, replyto: inbox.queuename, correlationId: `${RUN}-1`, data: { hello: "world" }, striptoken: true });
    for (let i = 0; i < 50 && replies.length === 0; i++) await sleep(100);
    return replies[0];
  });
  const fan = await c.consumeExchange({ exchangename: `${RUN}_fan`, algorithm: "fanout" }, async () => undefined);
  await step("queuemessage to exchange", () => c.queueMessage({ exchangename: `${RUN}_fan`, data: { to: "all" } }));
  await step("closequeue", () => server.close());
  await step("closequeue exchange", () => fan.close());
  await step("closequeue inbox", () => inbox.close());

  // Watches.
  const events: unknown[] = [];
  const watch = await c.watchCollection(col, [], (e) => void events.push(e));
  await step("watch event", async () => {
    await c.insertOne({ collectionname: col, item: { _type: "note", name: "watched" } });
    for (let i = 0; i < 50 && events.length === 0; i++) await sleep(100);
    return events.length;
  });
  await step("unwatch", () => watch.unwatch());

  // Work items.
  const wiq = `${RUN}_wiq`;
  await step("addworkitemqueue", () => c.addWorkitemQueue({ name: wiq, maxretries: 2, retrydelay: 0, initialdelay: 0 }));
  await step("getworkitemqueue", () => c.getWorkitemQueue({ name: wiq }));
  await step("updateworkitemqueue", async () => {
    const q = (await c.getWorkitemQueue({ name: wiq })) as { result?: Record<string, unknown> };
    const r = q.result ?? {};
    return c.updateWorkitemQueue({ _id: String(r["_id"] ?? ""), name: wiq, _acl: r["_acl"], maxretries: 3, retrydelay: 0, initialdelay: 0 } as never);
  });
  await step("addworkitem", () => c.addWorkitem({ wiq, name: "job 1", payload: { n: 1 } }));
  await step("addworkitems", () => c.addWorkitems({ wiq, items: [{ name: "job 2", payload: { n: 2 } }, { name: "job 3", payload: { n: 3 } }] }));
  const popped = (await step("popworkitem", () => c.popWorkitem({ wiq }))) as { result?: { _id: string } } | undefined;
  if (popped?.result?._id) {
    await step("updateworkitem", () => c.updateWorkitem({ _id: popped.result?._id as string, state: "successful", payload: { done: true } }));
    await step("deleteworkitem", () => c.deleteWorkitem({ _id: popped.result?._id as string }));
  }
  await step("deleteworkitemqueue", () => c.deleteWorkitemQueue({ wiq, purge: true }));

  // Files.
  const saved = (await step("savefile", () => c.saveFile({ filename: `${RUN}.txt`, mimeType: "text/plain", file: Buffer.from("hello gridfs").toString("base64"), metadata: { _type: "file" } }))) as { id?: string } | undefined;
  if (saved?.id) {
    const got = (await step("getfile", () => c.getFile({ id: saved.id as string }))) as { metadata?: Record<string, unknown> } | undefined;
    await step("updatefile", () => c.updateFile({ id: saved.id as string, metadata: { ...(got?.metadata ?? {}), tag: "updated" } } as never));
  }

  // Customers, billing, infrastructure: answered with the errors of an environment without Stripe or Kubernetes.
  await step("selectcustomer", () => c.selectCustomer({ customerid: "" } as never));
  await step("ensurecustomer", () => c.ensureCustomer({ customer: { _type: "customer", name: `${RUN} customer` } } as never));
  await step("getnextinvoice", () => c.getNextInvoice({ customerid: "nosuchcustomer" } as never));
  await step("stripeaddplan", () => c.stripeAddPlan({ customerid: "nosuchcustomer", resourceid: "x", stripeprice: "y", quantity: 1 } as never));
  await step("stripecancelplan", () => c.stripeCancelPlan({ resourceusageid: "nosuch" } as never));
  await step("stripemessage", () => c.stripeMessage({ method: "GET", object: "customers" } as never));
  await step("getkubenodelabels", () => c.getKubeNodeLabels({}));
  await step("housekeeping", () => c.housekeeping({ skipnodered: true, skipcalculatesize: true, skipupdateusersize: true } as never));
  await step("customcommand getclients", () => c.customCommand({ command: "getclients" } as never));
  await step("createworkflowinstance", () => c.createWorkflowInstance({ workflowid: "nosuchworkflow", resultqueue: `${RUN}_result`, targetid: "nosuchrobot", initialrun: false } as never));
  // Quirk: an exchange registered without a queue breaks every later registerqueue/closequeue of the connection.
  await step("registerexchange addqueue false", () => c.registerExchange({ exchangename: `${RUN}_noqueue`, algorithm: "fanout", addqueue: false }));
  await step("registerqueue after it", () => c.registerQueue({ queuename: `${RUN}_after` }));
  c.close();
}

/** Collection and queue names of the examples, moved under this run's prefix so reruns do not collide. */
function prefixed(payload: unknown): unknown {
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return payload;
  const out: Record<string, unknown> = { ...(payload as Record<string, unknown>) };
  for (const key of ["collectionname", "queuename", "exchangename", "wiq", "name"]) {
    const v = out[key];
    if (typeof v === "string" && v !== "" && !["users", "fs.files", "files", "entities", "mq", "openrpa", "workflow_instances"].includes(v)) out[key] = `${RUN}_${v}`;
  }
  return out;
}

async function examples(): Promise<void> {
  const dir = join(import.meta.dirname, "../../schemas/commands");
  const c = await open();
  for (const file of readdirSync(dir).sort()) {
    const doc = JSON.parse(readFileSync(join(dir, file), "utf8")) as { "x-openflow": { command: string; direction: string; implementations: Record<string, string[]> }; $defs: { request: { examples?: unknown[] } } };
    const x = doc["x-openflow"];
    if (x.direction !== "c2s" || (x.implementations["server-latest"] ?? []).length === 0) continue;
    if (x.command === "signin" || x.command === "dropcollection") continue; // a signin example would replace the session; drops run in flows
    for (const [i, example] of (doc.$defs.request.examples ?? []).entries()) {
      await step(`example ${x.command}#${i}`, () => c.requestUntyped(x.command, prefixed(example), { timeoutMs: 15_000 }));
    }
  }
  c.close();
}

if (only !== "examples") await flows();
if (only !== "flows") await examples();
