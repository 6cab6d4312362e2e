/**
 * The limits table of docs/security.md is what the code does: every row naming an option gives its default and
 * its per-address and per-user shares as options.ts resolves them, and every limit the code has is in the table.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { resolveOptions } from "../../server/options.js";

const UNITS: Record<string, number> = { KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };

/** "1 000" -> 1000, "64 KiB" -> 65536, "32 Mi" -> 33554432, "-" -> undefined, "off" -> "off". */
function parseValue(cell: string): number | string | undefined {
  const text = cell.trim();
  if (text === "-") return undefined;
  const m = /^([\d ]+(?:\.\d+)?)(?: (KiB|MiB|GiB|Ki|Mi|Gi))?$/.exec(text);
  if (!m) return text;
  return Number((m[1] as string).replace(/ /g, "")) * (m[2] ? (UNITS[m[2]] as number) : 1);
}

interface Row {
  option: string;
  defaultValue: number | string | undefined;
  perAddress: number | string | undefined;
  perUser: number | string | undefined;
}

function tableRows(): Row[] {
  const doc = readFileSync(new URL("../../docs/security.md", import.meta.url), "utf8");
  const section = doc.slice(doc.indexOf("### Limits"));
  const rows: Row[] = [];
  for (const line of section.split("\n")) {
    const cells = line.split("|").slice(1, -1);
    const m = /^\s*`([A-Za-z.]+)`\s*$/.exec(cells[0] ?? "");
    if (!m || cells.length < 5) continue;
    rows.push({ option: m[1] as string, defaultValue: parseValue(cells[1] as string), perAddress: parseValue(cells[2] as string), perUser: parseValue(cells[3] as string) });
  }
  return rows;
}

describe("docs/security.md limits table", () => {
  const resolved = resolveOptions();
  const limits = resolved.limits as unknown as Record<string, number>;
  const rows = tableRows();

  it("has a row for every limit of the code (shares as columns)", () => {
    const documented = new Set(rows.map((r) => r.option));
    const shares = Object.keys(limits).filter((k) => /Per(Address|User)$/.test(k));
    for (const name of Object.keys(limits)) {
      if (shares.includes(name)) continue;
      expect(documented.has(name), `limits.${name} is not in the table`).toBe(true);
    }
    expect(documented.has("heartbeat.signinTimeoutMs")).toBe(true);
    expect(rows.length).toBeGreaterThan(35);
  });

  it("each default and share in the table equals the code's value", () => {
    for (const row of rows) {
      if (row.option === "rateLimit") {
        expect(row.defaultValue).toBe("off");
        expect(resolved.rateLimit).toBeUndefined();
        continue;
      }
      if (row.option.startsWith("heartbeat.")) {
        expect(row.defaultValue, row.option).toBe((resolved.heartbeat as unknown as Record<string, number>)[row.option.slice("heartbeat.".length)]);
        continue;
      }
      expect(row.defaultValue, row.option).toBe(limits[row.option]);
      const perAddress = limits[`${row.option}PerAddress`];
      const perUser = limits[`${row.option}PerUser`];
      expect(row.perAddress, `${row.option} per address`).toBe(perAddress);
      expect(row.perUser, `${row.option} per user`).toBe(perUser);
    }
  });
});
