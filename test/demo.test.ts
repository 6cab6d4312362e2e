/**
 * `npm run demo` as a user runs it: the whole demo (server, two clients, rpc, work items, and a flow that invokes the
 * fake robot and waits for its completion) exits 0 and prints each step.
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "..");

describe("npm run demo", () => {
  it("runs every step, the robot invocation included, and exits 0", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "demo/demo.ts"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => void (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => void (err += d.toString()));
    const code = await new Promise<number>((r) => child.on("exit", (c) => r(c ?? -1)));
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out).toContain('queue round trip: "hello from demo" -> robot -> "HELLO FROM DEMO"');
    expect(out).toMatch(/robot "rpa-robot" ran "approve-invoice": invokesuccess -> invokeidle -> invokecompleted, approved=true/);
    expect(out).toContain('robot "read-portal" failed as scripted: Element not found: #login');
    expect(out).toContain("demo finished: all steps succeeded");
  }, 30_000);
});
