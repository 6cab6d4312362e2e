/** Identifiers the server hands out: 24-hex ObjectId-like document ids and short random names. */
import { randomBytes } from "node:crypto";

const processRandom = randomBytes(5).toString("hex");
let counter = randomBytes(3).readUIntBE(0, 3);

/** A 24-hex id shaped like a MongoDB ObjectId: 4-byte seconds, 5-byte per-process random, 3-byte counter. */
export function newObjectId(nowMs: number = Date.now()): string {
  counter = (counter + 1) % 0xffffff;
  const seconds = Math.floor(nowMs / 1000) >>> 0;
  return seconds.toString(16).padStart(8, "0") + processRandom + counter.toString(16).padStart(6, "0");
}

/** True for a 24-character hex string (the form the real server treats as an ObjectId). */
export function isObjectId(value: unknown): value is string {
  return typeof value === "string" && /^[0-9a-f]{24}$/i.test(value);
}

/** Lower-case base-36 random text (queue names, unique file names). */
export function randomName(length = 12): string {
  const bytes = randomBytes(length);
  let text = "";
  for (const b of bytes) text += (b % 36).toString(36);
  return text;
}
