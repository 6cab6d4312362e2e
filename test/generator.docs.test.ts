/**
 * Generated command pages on the real schemas (generated/ is checked up to date by generator.check.test.ts):
 * the error section names only what each server really does, named shapes link to their definition, and every
 * table keeps its column count.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const DOCS = join(import.meta.dirname, "../generated/docs");
const page = (name: string): string => readFileSync(join(DOCS, "commands", `${name}.md`), "utf8");
const section = (text: string, title: string): string => text.split(`\n## ${title}`)[1]?.split("\n## ")[0] ?? "";

describe("generated command docs", () => {
  it("error styles follow the server implementations", () => {
    const count = section(page("count"), "Errors");
    expect(count).toContain('- server-2021: does not know `count` and answers with an `error` reply `{"message":"Unknown command count"}`');
    expect(count).toContain('- server-latest: an `error` reply with `{"message", "error"}`, e.g. `{"message":"Access denied, not signed in"');
    expect(section(page("query"), "Errors")).toContain("- server-2021: a `query` reply whose payload carries the text in `error`");
    // Server-started, answered by no server: no invented error reply.
    expect(section(page("queueclosed"), "Errors")).toContain("No server answers a `queueclosed` request, so no error reply is defined.");
    expect(section(page("queueclosed"), "Errors")).not.toContain("server-2021:");
  });

  it("says where each named shape of the field tables is defined", () => {
    const types = section(page("queuemessage"), "Types");
    for (const name of ["QueueMessageBody", "QueueMessageDelivery", "QueueMessagePublish"]) {
      expect(types).toContain(`- \`${name}\` ([\`commands/queuemessage.json\`](../../../schemas/commands/queuemessage.json) \`#/$defs/${name}\`): `);
    }
    expect(section(page("popworkitem"), "Types")).toContain("- [`Workitem`](../types/Workitem.md) ([`defs/workitem.json`](../../../schemas/defs/workitem.json)): ");
    expect(section(page("signin"), "Types")).toContain("- [`TokenUser`](../types/TokenUser.md) ([`defs/tokenuser.json`]");
    expect(page("count")).not.toContain("## Types");
  });

  it("keeps every table row at its header's column count", () => {
    for (const file of ["README.md", ...readdirSync(join(DOCS, "commands")).map((f) => `commands/${f}`)]) {
      let columns = -1;
      let fenced = false;
      for (const line of readFileSync(join(DOCS, file), "utf8").split("\n")) {
        if (line.startsWith("```")) fenced = !fenced;
        if (fenced || !line.startsWith("|")) {
          columns = -1;
          continue;
        }
        const cells = line.replace(/\\\|/g, "").split("|").length;
        if (columns < 0) columns = cells;
        else expect(cells, `${file}: ${line.slice(0, 80)}`).toBe(columns);
      }
    }
  });
});
