/**
 * The README's runtime example, run as written (against the project's local server), so it cannot rot.
 * Keep the body of `example()` identical to the code block in /work/notes/runtime-readme.md.
 */
import { expect, it } from "vitest";
import { connect, OpenFlowError } from "../runtime/index.js";
import { startServer } from "../server/index.js";

async function example(log: (...args: unknown[]) => void): Promise<void> {
  const server = await startServer({ users: [{ username: "demo", password: "demo-password", roles: ["admins"] }] });
  const client = await connect(server.url, { username: "demo", password: "demo-password", logLevel: "error" });

  // Typed commands (generated) and the generic escape hatch.
  await client.insertOne({ collectionname: "entities", item: { _type: "note", name: "hello" } });
  const found = await client.query({ collectionname: "entities", query: { _type: "note" }, top: 10 });
  log("notes:", found.result?.map((doc) => doc.name));

  // Push: a queue consumer; returning a value answers the sender's replyto queue.
  const consumer = await client.consumeQueue<{ n: number }>("", (message) => ({ doubled: message.data.n * 2 }));
  log("consuming", consumer.queuename);

  // Watches: a handler and/or `for await`.
  const watch = await client.watchCollection("entities", [], (change) => log("changed:", change));
  await watch.unwatch();

  // One error class with a closed set of codes.
  try {
    await client.request("nosuchcommand", {}, { timeoutMs: 5_000 });
  } catch (error) {
    if (OpenFlowError.is(error, "unsupported")) log("server does not know it:", error.serverMessage);
    else throw error;
  }

  client.close();
  await server.close();
}

it("the README example runs as shown", async () => {
  const lines: string[] = [];
  await example((...args) => lines.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" ")));
  expect(lines[0]).toBe('notes: ["hello"]');
  expect(lines[1]).toMatch(/^consuming \S+/);
  expect(lines.at(-1)).toMatch(/^server does not know it: Unknown command nosuchcommand/);
}, 20_000);
