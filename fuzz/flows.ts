/**
 * Stateful flows: short sequences that follow what a client really does, with the checks that make a wrong
 * server visible on the first pass (not by luck): data (insert → query → update → getdocumentversion → delete,
 * with follow-up reads), two users and the ACL, queues (registerqueue → queuemessage with replyto → delivery →
 * reply), watches (watch → insert → watchevent → unwatch), work items (addworkitemqueue → addworkitem →
 * popworkitem → updateworkitem → deleteworkitem) and files (savefile → getfile). Every name is under the run's
 * prefix `${P}`.
 */
import type { Step } from "./steps.js";

export interface Flow {
  name: string;
  /** Commands the flow exercises (all must be allowed for it to run). */
  commands: string[];
  /** Needs two sign-ins. */
  twoUsers?: boolean;
  steps(chunkSize: number | undefined): Step[];
}

const C = "${P}_data";

function withChunk(steps: Step[], chunkSize: number | undefined): Step[] {
  return chunkSize === undefined ? steps : steps.map((s) => ({ ...s, chunkSize }));
}

/** A value long enough to be chunked at the small package size. */
const TEXT = "fuzz text ".repeat(30).trim();

export const flows: Flow[] = [
  {
    name: "data",
    commands: ["insertone", "query", "count", "updateone", "getdocumentversion", "deleteone"],
    steps: (chunk) =>
      withChunk(
        [
          {
            as: 0,
            note: "data: insertone",
            command: "insertone",
            payload: { collectionname: C, item: { _type: "fuzz", name: "${P}_a", n: 1, text: TEXT } },
            expect: "ok",
            save: { doc: "/result/_id" },
            checks: [{ invariant: "read-your-writes", pointer: "/result", op: "subset", value: { name: "${P}_a", n: 1 }, what: "insertone reply echoes the stored item" }],
            verify: { command: "query", payload: { collectionname: C, query: { _id: "${doc}" } }, checks: [{ invariant: "read-your-writes", pointer: "/result/0", op: "subset", value: { _id: "${doc}", name: "${P}_a", n: 1, text: TEXT }, what: "the inserted document is read back" }] },
          },
          { as: 0, note: "data: query by _id", command: "query", payload: { collectionname: C, query: { _id: "${doc}" } }, expect: "ok", readOf: C, checks: [{ invariant: "reply-invalid", pointer: "/result/0/_id", op: "equals", value: "${doc}", what: "query by _id returns that document" }] },
          { as: 0, note: "data: count", command: "count", payload: { collectionname: C, query: { _id: "${doc}" } }, expect: "ok", readOf: C, checks: [{ invariant: "reply-invalid", pointer: "/result", op: "equals", value: 1, what: "count by _id counts that document" }] },
          {
            as: 0,
            note: "data: updateone",
            command: "updateone",
            payload: { collectionname: C, item: { _id: "${doc}", _type: "fuzz", name: "${P}_a", n: 2, text: TEXT } },
            expect: "ok",
            verify: { command: "query", payload: { collectionname: C, query: { _id: "${doc}" } }, checks: [{ invariant: "read-your-writes", pointer: "/result/0", op: "subset", value: { _id: "${doc}", n: 2 }, what: "updateone reported success, but the next read does not show the update" }] },
          },
          { as: 0, note: "data: getdocumentversion 0", command: "getdocumentversion", payload: { collectionname: C, id: "${doc}", version: 0 }, expect: "any", readOf: C },
          {
            as: 0,
            note: "data: deleteone",
            command: "deleteone",
            payload: { collectionname: C, id: "${doc}" },
            expect: "ok",
            verify: { command: "query", payload: { collectionname: C, query: { _id: "${doc}" } }, checks: [{ invariant: "read-your-writes", pointer: "/result", op: "length", value: 0, what: "deleteone reported success, but the document is still there" }] },
          },
        ],
        chunk,
      ),
  },
  {
    name: "acl",
    commands: ["insertone", "query", "updateone", "deleteone"],
    twoUsers: true,
    steps: (chunk) =>
      withChunk(
        [
          { as: 0, note: "acl: user 1 inserts", command: "insertone", payload: { collectionname: C, item: { _type: "fuzz", name: "${P}_private", n: 1 } }, expect: "ok", save: { doc: "/result/_id" } },
          { as: 1, note: "acl: user 2 queries it", command: "query", payload: { collectionname: C, query: { _id: "${doc}" } }, expect: "any", checks: [{ invariant: "acl", pointer: "/result", op: "absent", what: "the second user sees a document the ACL does not give it" }] },
          { as: 1, note: "acl: user 2 updates it", command: "updateone", payload: { collectionname: C, item: { _id: "${doc}", _type: "fuzz", name: "${P}_private", n: 99 } }, expect: "any", verify: { as: 0, command: "query", payload: { collectionname: C, query: { _id: "${doc}" } }, checks: [{ invariant: "acl", pointer: "/result/0", op: "subset", value: { _id: "${doc}", n: 1 }, what: "the second user changed a document the ACL does not give it" }] } },
          { as: 1, note: "acl: user 2 deletes it", command: "deleteone", payload: { collectionname: C, id: "${doc}" }, expect: "any", verify: { as: 0, command: "query", payload: { collectionname: C, query: { _id: "${doc}" } }, checks: [{ invariant: "acl", pointer: "/result/0", op: "subset", value: { _id: "${doc}", n: 1 }, what: "the second user deleted a document the ACL does not give it" }] } },
        ],
        chunk,
      ),
  },
  {
    name: "queues",
    commands: ["registerqueue", "queuemessage", "closequeue"],
    steps: (chunk) =>
      withChunk(
        [
          { as: 0, note: "queues: registerqueue (work)", command: "registerqueue", payload: { queuename: "${P}_q" }, expect: "ok", checks: [{ invariant: "read-your-writes", pointer: "/queuename", op: "equals", value: "${P}_q", what: "the queue gets the name asked for" }] },
          { as: 0, note: "queues: registerqueue (replies)", command: "registerqueue", payload: { queuename: "${P}_r" }, expect: "ok" },
          {
            as: 0,
            note: "queues: queuemessage with replyto",
            command: "queuemessage",
            payload: { queuename: "${P}_q", replyto: "${P}_r", correlationId: "${P}_corr", data: { question: TEXT }, striptoken: true, expiration: 10000 },
            expect: "ok",
            push: { command: "queuemessage", match: { "/queuename": "${P}_q", "/correlationId": "${P}_corr", "/data/question": TEXT }, invariant: "push-missing", what: "the message is delivered to the consumer with its data" },
          },
          {
            as: 0,
            note: "queues: reply to replyto",
            command: "queuemessage",
            payload: { queuename: "${P}_r", correlationId: "${P}_corr", data: { answer: 42 }, striptoken: true, expiration: 10000 },
            expect: "ok",
            push: { command: "queuemessage", match: { "/queuename": "${P}_r", "/correlationId": "${P}_corr", "/data/answer": 42 }, invariant: "push-missing", what: "the reply reaches the replyto queue" },
          },
          { as: 0, note: "queues: closequeue", command: "closequeue", payload: { queuename: "${P}_q" }, expect: "ok" },
        ],
        chunk,
      ),
  },
  {
    name: "watches",
    commands: ["watch", "insertone", "unwatch"],
    steps: (chunk) =>
      withChunk(
        [
          { as: 0, note: "watches: watch", command: "watch", payload: { collectionname: "${P}_w", aggregates: [] }, expect: "ok", save: { watch: "/id" }, checks: [{ invariant: "reply-invalid", pointer: "/id", op: "present", what: "watch replies with the watch id" }] },
          {
            as: 0,
            note: "watches: insertone",
            command: "insertone",
            payload: { collectionname: "${P}_w", item: { _type: "fuzz", name: "${P}_watched" } },
            expect: "ok",
            push: { command: "watchevent", match: { "/id": "${watch}", "/result/fullDocument/name": "${P}_watched" }, invariant: "push-missing", what: "the watch reports the insert" },
          },
          { as: 0, note: "watches: unwatch", command: "unwatch", payload: { id: "${watch}" }, expect: "ok" },
        ],
        chunk,
      ),
  },
  {
    name: "workitems",
    commands: ["addworkitemqueue", "addworkitem", "popworkitem", "updateworkitem", "deleteworkitem", "deleteworkitemqueue"],
    steps: (chunk) =>
      withChunk(
        [
          { as: 0, note: "workitems: addworkitemqueue", command: "addworkitemqueue", payload: { name: "${P}_wiq", maxretries: 3, retrydelay: 0, initialdelay: 0 }, expect: "ok" },
          { as: 0, note: "workitems: addworkitem", command: "addworkitem", payload: { wiq: "${P}_wiq", name: "${P}_item", payload: { text: TEXT, n: 7 } }, expect: "ok", save: { item: "/result/_id" }, checks: [{ invariant: "reply-invalid", pointer: "/result/_id", op: "present", what: "addworkitem returns the stored item" }] },
          { as: 0, note: "workitems: popworkitem", command: "popworkitem", payload: { wiq: "${P}_wiq" }, expect: "ok", checks: [{ invariant: "read-your-writes", pointer: "/result", op: "subset", value: { _id: "${item}", name: "${P}_item", payload: { text: TEXT, n: 7 } }, what: "popworkitem returns the item just added" }] },
          {
            as: 0,
            note: "workitems: updateworkitem",
            command: "updateworkitem",
            payload: { _id: "${item}", state: "successful", payload: { text: TEXT, n: 8 } },
            expect: "ok",
            checks: [{ invariant: "read-your-writes", pointer: "/result", op: "subset", value: { _id: "${item}", state: "successful" }, what: "updateworkitem returns the new state" }],
            // Work items live in the `workitems` collection (../docs/protocol.md#work-items): read this one back.
            verify: { command: "query", payload: { collectionname: "workitems", query: { _id: "${item}" }, top: 1 }, checks: [{ invariant: "read-your-writes", pointer: "/result/0", op: "subset", value: { _id: "${item}", state: "successful", payload: { n: 8 } }, what: "updateworkitem reported success, but the stored item does not show the update" }] },
          },
          {
            as: 0,
            note: "workitems: deleteworkitem",
            command: "deleteworkitem",
            payload: { _id: "${item}" },
            expect: "ok",
            verify: { command: "query", payload: { collectionname: "workitems", query: { _id: "${item}" }, top: 1 }, checks: [{ invariant: "read-your-writes", pointer: "/result", op: "length", value: 0, what: "deleteworkitem reported success, but the item is still stored" }] },
          },
          { as: 0, note: "workitems: popworkitem on the empty queue", command: "popworkitem", payload: { wiq: "${P}_wiq" }, expect: "any", checks: [{ invariant: "read-your-writes", pointer: "/result", op: "absent", what: "a deleted work item is not handed out again" }] },
        ],
        chunk,
      ),
  },
  {
    name: "files",
    commands: ["savefile", "getfile"],
    steps: (chunk) =>
      withChunk(
        [
          { as: 0, note: "files: savefile", command: "savefile", payload: { filename: "${P}_file.txt", mimeType: "text/plain", file: Buffer.from(TEXT).toString("base64"), compressed: false }, expect: "ok", save: { file: "/id" } },
          { as: 0, note: "files: getfile", command: "getfile", payload: { id: "${file}", compress: false }, expect: "ok", checks: [{ invariant: "read-your-writes", pointer: "/file", op: "equals", value: Buffer.from(TEXT).toString("base64"), what: "getfile returns the bytes saved" }] },
        ],
        chunk,
      ),
  },
];

/** Invalid input every server must refuse with an error (and keep the connection). */
export function invalidSteps(chunk: number | undefined): Step[] {
  const steps: Step[] = [
    { as: 0, note: "invalid: data is not JSON", command: "query", data: "{not json", expect: "error" },
    { as: 0, note: "invalid: query without collectionname", command: "query", payload: { query: {} }, expect: "error" },
    { as: 0, note: "invalid: insertone without item", command: "insertone", payload: { collectionname: C }, expect: "error" },
    { as: 0, note: "invalid: unknown command", command: "ofsfuzz_no_such_command", payload: {}, expect: "error" },
    { as: 0, note: "broken chunking: index beyond count", command: "query", payload: { collectionname: C, query: {} }, frames: "index-out-of-range", expect: "error-or-silence" },
    { as: 0, note: "broken chunking: a chunk missing", command: "query", payload: { collectionname: C, query: {} }, frames: "missing-chunk", expect: "error-or-silence" },
    { as: 0, note: "broken chunking: a chunk twice", command: "query", payload: { collectionname: C, query: {} }, frames: "duplicate-chunk", expect: "any" },
  ];
  return withChunk(steps, chunk);
}
