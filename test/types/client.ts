/**
 * Type tests of the client as an app developer uses it. Never run: checked by the strict TypeScript program in
 * test/generator.types.test.ts (and by `npm run typecheck`). Every `@ts-expect-error` must be a real error there
 * (an unused one fails the check), so each line proves a mistake does not compile.
 */
import { expectTypeOf } from "vitest";
import type { OpenFlowClient } from "../../runtime/index.js";
import type { ChangeEvent, InsertOneReply, QueryReply, TokenUser } from "../../generated/types.js";

interface Order {
  customer: string;
  total: number;
}

export async function closedRequests(client: OpenFlowClient): Promise<void> {
  await client.query({ collectionname: "orders", query: {}, top: 10 });
  // @ts-expect-error misspelt optional field (tpo for top) on a typed method
  await client.query({ collectionname: "orders", query: {}, tpo: 10 });
  // @ts-expect-error unknown field next to the common request fields
  await client.count({ collectionname: "orders", query: {}, jwtt: "x" });
  // @ts-expect-error misspelt field in a request with no fields of its own beyond the common ones
  await client.listCollections({ includehsit: true });
  // @ts-expect-error misspelt field of a request whose type is a union of branches (addworkitem: wiqid | wiq)
  await client.addWorkitem({ wiq: "q", nmae: "x" });
  await client.addWorkitem({ wiq: "q", name: "x" });
  // Nested values that are free-form in the protocol (a MongoDB filter) stay open.
  await client.query({ collectionname: "orders", query: { anything: { $gt: 1 } } });
  // The common request fields are accepted everywhere.
  await client.query({ collectionname: "orders", query: {}, traceId: "t", spanId: "s", jwt: "token" });
}

export async function typedRequest(client: OpenFlowClient): Promise<void> {
  expectTypeOf(client.request("query", { collectionname: "orders", query: {} })).resolves.toEqualTypeOf<QueryReply>();
  // @ts-expect-error a typo in the command name
  await client.request("qurey", {});
  // @ts-expect-error the payload is checked against the command's request type
  await client.request("query", { collectionname: "orders", query: {}, tpo: 10 });
  // @ts-expect-error query needs a payload
  await client.request("query");
  // @ts-expect-error a command only the server starts cannot be requested
  await client.request("watchevent", { id: "w", result: {} });
  // Commands whose request needs nothing may leave the payload out.
  expectTypeOf(client.request("listcollections")).resolves.not.toBeAny();
  // The explicit untyped path, for commands the spec does not know.
  expectTypeOf(client.requestUntyped("mycustomcommand", { anything: 1 })).resolves.toEqualTypeOf<unknown>();
}

export async function typedUserAndEvents(client: OpenFlowClient): Promise<void> {
  expectTypeOf(client.user).toEqualTypeOf<TokenUser | undefined>();
  const name: string | null | undefined = client.user?.name;
  void name;

  const watch = await client.watchCollection("orders", [], (event) => {
    expectTypeOf(event.operationType).toEqualTypeOf<ChangeEvent["operationType"]>();
  });
  for await (const event of watch) {
    expectTypeOf(event.operationType).toEqualTypeOf<string | undefined>();
    // @ts-expect-error change events have no field of that name typed
    const bad: number = event.opertionType;
    void bad;
    break;
  }
  const orders = await client.watchCollection<Order>("orders", [], (event) => {
    const total: number | undefined = event.fullDocument?.total;
    const id: string | undefined = event.fullDocument?._id;
    void total;
    void id;
  });
  void orders;

  await client.consumeQueue<{ n: number }>("", (delivery) => {
    expectTypeOf(delivery.data).toEqualTypeOf<{ n: number }>();
    // @ts-expect-error the delivery body is typed by the caller's type parameter
    void delivery.data.m;
    return { doubled: delivery.data.n * 2 };
  });
}

export async function documentTypes(client: OpenFlowClient): Promise<void> {
  const found = await client.query<Order>({ collectionname: "orders", query: {} });
  const first = found.result?.[0];
  if (first) {
    expectTypeOf(first.total).toEqualTypeOf<number>();
    expectTypeOf(first._id).toEqualTypeOf<string>();
    expectTypeOf(first._created).not.toBeAny();
    // @ts-expect-error Order has no field totl
    void first.totl;
  }
  const inserted = await client.insertOne<Order>({ collectionname: "orders", item: { customer: "c", total: 3, _type: "order" } });
  expectTypeOf(inserted.result?.total).toEqualTypeOf<number | undefined>();
  // @ts-expect-error the document must be an Order
  await client.insertOne<Order>({ collectionname: "orders", item: { customer: "c" } });
  // @ts-expect-error a misspelt field inside a typed document
  await client.insertOne<Order>({ collectionname: "orders", item: { customer: "c", total: 3, totl: 4 } });
  await client.insertMany<Order>({ collectionname: "orders", items: [{ customer: "c", total: 1 }] });
  // Without a type parameter documents are the open base entity, as before.
  const any = await client.insertOne({ collectionname: "orders", item: { whatever: 1 } });
  expectTypeOf(any).toMatchTypeOf<InsertOneReply>();
}
