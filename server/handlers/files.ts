/** Files: savefile, getfile, updatefile over `fs.files` documents and stored bytes. */
import { deflateSync, inflateSync } from "node:zlib";
import { addRight, aclAllows, Rights, WellknownIds, type Ace } from "../acl.js";
import { FILES } from "../authz.js";
import type { Handler } from "../context.js";
import { assertObject } from "../documents.js";
import { commandError } from "../errors.js";
import { newObjectId, randomName } from "../ids.js";
import type { AnyDoc } from "../store.js";

const MIME: Record<string, string> = {
  txt: "text/plain", json: "application/json", csv: "text/csv", html: "text/html", htm: "text/html", xml: "application/xml",
  xaml: "application/xaml+xml", js: "text/javascript", css: "text/css", md: "text/markdown", png: "image/png", jpg: "image/jpeg",
  jpeg: "image/jpeg", gif: "image/gif", svg: "image/svg+xml", pdf: "application/pdf", zip: "application/zip", gz: "application/gzip",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
};

export function mimeTypeOf(filename: string): string {
  const ext = filename.toLowerCase().split(".").pop() ?? "";
  return MIME[ext] ?? "application/octet-stream";
}

function splitPath(filename: string): { name: string; path: string } {
  const normalized = filename.replace(/\\/g, "/");
  const at = normalized.lastIndexOf("/");
  return at < 0 ? { name: normalized, path: "" } : { name: normalized.slice(at + 1), path: normalized.slice(0, at) };
}

/**
 * Inflate a `compressed` upload, refusing output beyond `maxBytes` (the server's message size limit): without a
 * cap, 30 KB of deflated zeros inflate to 30 MB and a full-size message to tens of GB (a zip bomb).
 */
export function inflateLimited(bytes: Buffer, maxBytes: number): Buffer {
  return inflateSync(bytes, { maxOutputLength: maxBytes });
}

function decodeBase64(text: string, compressed: boolean, maxBytes: number): Buffer {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text.replace(/\s+/g, ""))) throw commandError("file must be base64 text");
  const bytes = Buffer.from(text, "base64");
  if (!compressed) return bytes;
  try {
    return inflateLimited(bytes, maxBytes);
  } catch (err) {
    throw commandError(`file is marked compressed but could not be inflated: ${(err as Error).message}`);
  }
}

/**
 * Store bytes as an `fs.files` document. Without an `_acl` the metadata gets filestore admins full control,
 * filestore users read and the uploader full control (../../schemas/commands/savefile.json); admins always have full control.
 */
export function saveFileDocument(server: Parameters<Handler>[0]["server"], user: Parameters<Handler>[0]["user"], filename: string, bytes: Buffer, mimeType: string | undefined, metadataIn: AnyDoc): AnyDoc {
  const metadata: AnyDoc = { ...metadataIn };
  let acl: Ace[] = Array.isArray(metadata._acl) ? (metadata._acl as Ace[]).map((a) => ({ ...a })) : [];
  if (acl.length === 0) {
    addRight(acl, WellknownIds.filestore_admins, "filestore admins", Rights.full);
    addRight(acl, WellknownIds.filestore_users, "filestore users", Rights.read);
  }
  addRight(acl, WellknownIds.admins, "admins", Rights.full);
  acl = addRight(acl, user._id, user.name, Rights.full);
  const { name, path } = splitPath(filename);
  const stamp = server.stamp();
  Object.assign(metadata, {
    name, filename, path, uniquename: `${randomName(8)}-${name}`, _acl: acl, _type: typeof metadata._type === "string" ? metadata._type : "file",
    _created: stamp, _createdby: user.name, _createdbyid: user._id, _modified: stamp, _modifiedby: user.name, _modifiedbyid: user._id, _version: 0,
  });
  const id = newObjectId(server.now());
  const doc: AnyDoc = { _id: id, length: bytes.length, chunkSize: 261120, uploadDate: stamp, filename, contentType: mimeType || mimeTypeOf(filename), metadata };
  server.files.put(id, bytes);
  return server.store.insert(FILES, doc);
}

export const fileHandlers: Record<string, Handler> = {
  savefile(ctx) {
    const p = ctx.payload;
    if (typeof p.filename !== "string" || p.filename === "") throw commandError("Filename is mandatory");
    if (typeof p.file !== "string" || p.file === "") throw commandError("file is mandatory");
    const bytes = decodeBase64(p.file, p.compressed === true, ctx.server.options.limits.maxMessageChars);
    const metadata = p.metadata === undefined || p.metadata === null ? {} : assertObject(p.metadata, "metadata");
    const result = saveFileDocument(ctx.server, ctx.user, p.filename, bytes, typeof p.mimeType === "string" ? p.mimeType : undefined, metadata);
    const reply: AnyDoc = { ...p, id: result._id, result };
    delete reply.file;
    return reply;
  },

  getfile(ctx) {
    const p = ctx.payload;
    const id = typeof p.id === "string" && p.id !== "" ? p.id : undefined;
    const filename = typeof p.filename === "string" && p.filename !== "" ? p.filename : undefined;
    if (!id && !filename) throw commandError("id or filename is mandatory");
    const readable = (d: AnyDoc) => aclAllows((d.metadata as AnyDoc | undefined)?._acl, ctx.user, Rights.read);
    let doc: AnyDoc | undefined;
    if (id) {
      doc = ctx.server.store.get(FILES, id);
    } else {
      // Readable files only, before the name is compared: another user's file must not change the answer.
      const all = ctx.server.store.all(FILES).filter(readable);
      const byUnique = all.filter((d) => (d.metadata as AnyDoc | undefined)?.uniquename === filename);
      doc = (byUnique.length > 0 ? byUnique : all.filter((d) => d.filename === filename)).at(-1);
    }
    const bytes = doc ? ctx.server.files.get(String(doc._id)) : undefined;
    if (!doc || !bytes || !readable(doc)) throw commandError(`File ${id ?? filename} not found`);
    const out = p.compress === true ? deflateSync(bytes) : bytes;
    return { ...p, id: doc._id, file: out.toString("base64"), mimeType: doc.contentType, metadata: structuredClone(doc.metadata) };
  },

  updatefile(ctx) {
    const p = ctx.payload;
    const id = typeof p.id === "string" ? p.id : "";
    const doc = id ? ctx.server.store.get(FILES, id) : undefined;
    const old = (doc?.metadata ?? {}) as AnyDoc;
    // An unreadable file is answered like a missing one (server-latest tells them apart: an existence oracle).
    if (!doc || !aclAllows(old._acl, ctx.user, Rights.read)) throw commandError(`Cannot update file with id ${id}`);
    if (!aclAllows(old._acl, ctx.user, Rights.update)) throw commandError("Access denied, no authorization to update file");
    const metadata = assertObject(p.metadata ?? {}, "metadata");
    for (const key of ["name", "filename", "path", "uniquename", "_created", "_createdby", "_createdbyid"]) if (old[key] !== undefined) metadata[key] = old[key];
    if (!Array.isArray(metadata._acl)) metadata._acl = old._acl;
    Object.assign(metadata, { _modified: ctx.server.stamp(), _modifiedby: ctx.user.name, _modifiedbyid: ctx.user._id, _version: Number(old._version ?? 0) + 1 });
    ctx.server.store.replace(FILES, { ...doc, metadata }, "update");
    const reply: AnyDoc = { ...p };
    delete reply.metadata;
    return reply;
  },
};
