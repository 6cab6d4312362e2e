/**
 * `npm run demo`: start the local server in-process and drive it with the project's client (`connect` from
 * runtime/index.ts). Signs in two users, inserts and queries documents, receives a watch event, runs a queue
 * request/reply round trip between the two clients (`rpc`), pushes and pops a work item, invokes a workflow on a
 * fake OpenRPA robot (robot/, scripted by demo/robot-workflows.json) and waits for it to complete, then exits 0.
 * Any failure (or more than 20 s in total) prints a clear message and exits 1.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { connect, type OpenFlowClient } from "../runtime/index.js";
import { RobotInvokeError, withRobots } from "../runtime/robots.js";
import { startRobot, type FakeRobot } from "../robot/index.js";
import { startServer, type RunningServer } from "../server/index.js";

const TOTAL_TIMEOUT_MS = 20_000;

function step(text: string): void {
  process.stdout.write(`  ${text}\n`);
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function run(): Promise<void> {
  const adminPassword = randomBytes(9).toString("base64url");
  const robotPassword = randomBytes(9).toString("base64url");
  const rpaPassword = randomBytes(9).toString("base64url");
  let server: RunningServer | undefined;
  let rpa: FakeRobot | undefined;
  const clients: OpenFlowClient[] = [];
  try {
    server = await startServer({
      users: [
        { username: "demo", password: adminPassword, roles: ["admins"] },
        { username: "robot", password: robotPassword },
        { username: "rpa-robot", password: rpaPassword, roles: ["robots"] },
      ],
    });
    process.stdout.write(`server listening on ${server.url}\n`);

    const demo = await connect(server.url, { username: "demo", password: adminPassword, logLevel: "error" });
    const robot = await connect(server.url, { username: "robot", password: robotPassword, logLevel: "error" });
    clients.push(demo, robot);
    step(`signed in as "demo" (admin) and "robot" (user)`);

    // Documents
    const inserted = await demo.insertMany({
      collectionname: "entities",
      items: [
        { _type: "fruit", name: "apple", color: "red", price: 3 },
        { _type: "fruit", name: "banana", color: "yellow", price: 2 },
        { _type: "fruit", name: "cherry", color: "red", price: 9 },
      ],
    });
    step(`inserted ${inserted.results?.length ?? 0} documents (ids ${(inserted.results ?? []).map((d) => String((d as { _id?: unknown })._id).slice(-6)).join(", ")})`);
    const red = await demo.query({ collectionname: "entities", query: { _type: "fruit", color: "red" }, orderby: { price: -1 }, projection: { name: 1, price: 1 } });
    const names = (red.result ?? []).map((d) => (d as { name?: string }).name);
    if (names.join(",") !== "cherry,apple") throw new Error(`query returned ${JSON.stringify(names)}, expected cherry, apple`);
    step(`query {color: "red"} sorted by price desc -> ${names.join(", ")}`);
    const hidden = await robot.query({ collectionname: "entities", query: { _type: "fruit" } });
    step(`robot sees ${hidden.result?.length ?? 0} of them (the ACL gives only the creator and admins access)`);

    // Watch
    let gotEvent: (event: unknown) => void = () => {};
    const eventArrived = new Promise<unknown>((resolve) => (gotEvent = resolve));
    const watch = await demo.watchCollection("entities", [], (event) => gotEvent(event));
    await demo.insertOne({ collectionname: "entities", item: { _type: "fruit", name: "damson", color: "purple", price: 4 } });
    const event = (await within(eventArrived, 5_000, "watch event")) as { operationType?: string; fullDocument?: { name?: string } };
    step(`watch event: ${event.operationType} of "${event.fullDocument?.name}"`);
    await watch.unwatch();

    // Queue request/reply between the two clients
    await robot.consumeQueue("demo.uppercase", (delivery) => {
      const data = delivery.data as { text?: string };
      return { text: String(data.text ?? "").toUpperCase() };
    });
    // rpc: a managed reply queue, a correlation id and a timeout; the sender's token stays out of the body.
    const caller = withRobots(demo);
    const answer = await caller.rpc<{ text?: string }>("demo.uppercase", { text: "hello from demo" }, { timeoutMs: 5_000 });
    if (answer.text !== "HELLO FROM DEMO") throw new Error(`queue reply was ${JSON.stringify(answer)}`);
    step(`queue round trip: "hello from demo" -> robot -> "${answer.text}"`);

    // Work items
    const queue = await demo.addWorkitemQueue({ name: "demo-orders", maxretries: 3, retrydelay: 0, initialdelay: 0 });
    await demo.addWorkitem({ wiq: "demo-orders", name: "order 1", payload: { amount: 42 } });
    await demo.addWorkitem({ wiq: "demo-orders", name: "urgent order", payload: { amount: 7 }, wipriority: 1 });
    const popped = await demo.popWorkitem({ wiq: "demo-orders" });
    const item = popped.result as { _id: string; name?: string; state?: string } | undefined;
    if (!item || item.name !== "urgent order") throw new Error(`popworkitem returned ${JSON.stringify(item)}`);
    const done = await demo.updateWorkitem({ _id: item._id, state: "successful" });
    step(`work item queue "${(queue.result as { name?: string } | undefined)?.name}": popped "${item.name}" (lowest priority first), now ${(done.result as { state?: string } | undefined)?.state}`);

    // A robot: a fake OpenRPA robot consumes its user _id queue and answers invokes from a script.
    rpa = await startRobot({
      url: server.url,
      credentials: { username: "rpa-robot", password: rpaPassword },
      workflows: JSON.parse(readFileSync(new URL("./robot-workflows.json", import.meta.url), "utf8")),
    });
    const statuses: string[] = [];
    const approved = await within(
      caller.invokeRobot<{ approved?: boolean; invoice?: string }>(rpa.queuename, "approve-invoice", { invoice: "INV-1001" }, { onStatus: (s) => statuses.push(s.command), timeoutMs: 10_000 }),
      10_000,
      "robot invocation",
    );
    if (approved.approved !== true || approved.invoice !== "INV-1001") throw new Error(`invokeRobot returned ${JSON.stringify(approved)}`);
    step(`robot "rpa-robot" ran "approve-invoice": ${statuses.join(" -> ")} -> invokecompleted, approved=${approved.approved}`);
    try {
      await caller.invokeRobot(rpa.queuename, "read-portal", {}, { timeoutMs: 10_000 });
      throw new Error("read-portal should have failed");
    } catch (err) {
      if (!(err instanceof RobotInvokeError) || err.failure !== "failed") throw err;
      step(`robot "read-portal" failed as scripted: ${err.exception?.Message}`);
    }

    process.stdout.write("demo finished: all steps succeeded\n");
  } finally {
    await rpa?.close();
    for (const c of clients) c.close();
    await server?.close();
  }
}

const deadline = setTimeout(() => {
  process.stderr.write(`demo failed: did not finish within ${TOTAL_TIMEOUT_MS / 1000} s\n`);
  process.exit(1);
}, TOTAL_TIMEOUT_MS);

run().then(
  () => {
    clearTimeout(deadline);
    process.exit(0);
  },
  (err: unknown) => {
    clearTimeout(deadline);
    process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
