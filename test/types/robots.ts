/**
 * Type tests of closed sets and of the robot helpers. Never run: checked by the strict TypeScript program in
 * test/generator.types.test.ts. Every `@ts-expect-error` must be a real error there.
 */
import { expectTypeOf } from "vitest";
import type { OpenFlowClient } from "../../runtime/index.js";
import type { RobotClient, RobotStatus } from "../../runtime/robots.js";
import type { PopWorkitemReply, RobotCommandMap, RobotCommandName, RobotInvoke, RobotTerminalCommandName, UpdateWorkitemReply, UpdateWorkitemRequest, Workitem } from "../../generated/types.js";

export async function workitemState(client: OpenFlowClient): Promise<void> {
  await client.updateWorkitem({ _id: "65c3b2a1e4b0a1b2c3d4e801", state: "successful" });
  await client.updateWorkitem({ _id: "65c3b2a1e4b0a1b2c3d4e801", state: "retry", errormessage: "portal down" });
  await client.updateWorkitem({ _id: "65c3b2a1e4b0a1b2c3d4e801", state: null });
  // @ts-expect-error a misspelt state is a compile error in the request an app writes
  await client.updateWorkitem({ _id: "65c3b2a1e4b0a1b2c3d4e801", state: "succesful" });
  // @ts-expect-error other spellings the server would accept are not canonical: write them in lower case
  await client.updateWorkitem({ _id: "65c3b2a1e4b0a1b2c3d4e801", state: "Successful" });
  expectTypeOf<UpdateWorkitemRequest["state"]>().toEqualTypeOf<"new" | "processing" | "successful" | "retry" | "failed" | null | undefined>();
  // The wire types stay tolerant: a reply echoes whatever the server stored or was sent.
  const echoed: UpdateWorkitemReply = { state: "SUCCESSFUL", result: { _id: "65c3b2a1e4b0a1b2c3d4e801", name: "item" } };
  void echoed;
}

export async function storedWorkitems(client: OpenFlowClient): Promise<void> {
  const updated = await client.updateWorkitem({ _id: "65c3b2a1e4b0a1b2c3d4e801", state: "successful" });
  // A work item a server returns has its _id, as Entity<T> has.
  if (updated.result) expectTypeOf(updated.result._id).toEqualTypeOf<string>();
  const popped: PopWorkitemReply = await client.popWorkitem({ wiq: "invoices" });
  if (popped.result) expectTypeOf(popped.result._id).toEqualTypeOf<string>();
  // The shared Workitem (what an app sends) keeps _id optional.
  const draft: Workitem = { name: "new item" };
  void draft;
}

export async function robots(client: RobotClient): Promise<void> {
  const result = await client.invokeRobot<{ paid: boolean }>("robot-user-id", "pay-invoice", { invoice: "INV-1" }, {
    onStatus: (status) => {
      expectTypeOf(status).toEqualTypeOf<RobotStatus>();
      expectTypeOf(status.command).toEqualTypeOf<"invokesuccess" | "invokeidle" | "timeout">();
    },
  });
  expectTypeOf(result.paid).toEqualTypeOf<boolean>();
  // @ts-expect-error parameters are the workflow's arguments by name, an object
  await client.invokeRobot("robot-user-id", "pay-invoice", "INV-1");
  expectTypeOf(await client.rpc<{ price: number }>("pricing", { qty: 1 })).toEqualTypeOf<{ price: number }>();
  // @ts-expect-error rpc takes a queue name
  await client.rpc(42, {});
  const invoke: RobotInvoke = { command: "invoke", workflowid: "pay-invoice", data: { invoice: "INV-1" } };
  void invoke;
  // @ts-expect-error an invoke without its workflow
  const bad: RobotInvoke = { command: "invoke" };
  void bad;
  expectTypeOf<RobotCommandMap["invokecompleted"]["command"]>().toEqualTypeOf<"invokecompleted">();
  expectTypeOf<RobotTerminalCommandName>().toEqualTypeOf<"error" | "invokeaborted" | "invokecompleted" | "invokefailed" | "timeout">();
  // @ts-expect-error not a robot command
  const name: RobotCommandName = "invokecompleteed";
  void name;
}
