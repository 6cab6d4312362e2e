/**
 * Fields that never leave the server, and the client's view of a stored document without them. Its own module
 * so that the change feed (watches.ts) and the document helpers (documents.ts) can share it without importing
 * each other (issue 16: no import circles in server/).
 */
import { USERS } from "./auth.js";
import type { AnyDoc } from "./store.js";

/** Fields of `users` documents that are never sent, never matched by a client's filter and never written directly. */
export const SECRET_USER_FIELDS = ["passwordhash", "newpassword"] as const;

/** The document as clients may see it: for `users`, without its secrets (a copy; other collections as they are). */
export function publicDoc(collection: string, doc: AnyDoc): AnyDoc {
  if (collection !== USERS) return doc;
  const out = { ...doc };
  for (const field of SECRET_USER_FIELDS) delete out[field];
  return out;
}
