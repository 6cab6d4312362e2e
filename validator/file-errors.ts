/**
 * One wording for a file that cannot be read, wherever the command line reads one (`validate` inputs,
 * `serve --users`, `call @file`): `<what>: cannot read: no such file or folder`. Node's own text
 * (`ENOENT: no such file or directory, open 'x'`) repeats the path and names the syscall; this names the cause.
 */

/** Why reading failed, in words: the cause for the common error codes, Node's message otherwise. */
export function unreadableReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException | undefined;
  switch (e?.code) {
    case "ENOENT":
      return "no such file or folder";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "is a folder, not a file";
    case "ENOTDIR":
      return "a part of the path is not a folder";
    default:
      return e instanceof Error ? e.message : String(err);
  }
}

/** `<what>: cannot read: <reason>`, e.g. `--users users.json: cannot read: no such file or folder`. */
export function cannotRead(what: string, err: unknown): string {
  return `${what}: cannot read: ${unreadableReason(err)}`;
}
