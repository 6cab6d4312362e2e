/**
 * Why a verb that listens (`serve`, `proxy`) could not start, with the fix: an address in use names the port and
 * suggests another one or `--port 0`/`:0` (a free port, printed at start); a refused bind names the privilege.
 */

/**
 * One line for a failed listen. `flag` is how the user picks another port (`--port 0` for serve,
 * `--listen HOST:0` for proxy).
 */
export function describeListenError(err: unknown, host: string, port: number, flag: string): string {
  const e = err as NodeJS.ErrnoException | undefined;
  const where = `${host}:${port}`;
  switch (e?.code) {
    case "EADDRINUSE":
      return `${where} is already in use (another server, or an earlier run still going): pick a free port with ${flag}, or stop the other process`;
    case "EACCES":
    case "EPERM":
      return `not allowed to listen on ${where} (ports below 1024 need privileges): pick a port above 1023, or ${flag} for a free one`;
    case "EADDRNOTAVAIL":
      return `${host} is not an address of this machine: use 127.0.0.1, 0.0.0.0 (all interfaces) or one of its own addresses`;
    default:
      return e instanceof Error ? e.message : String(err);
  }
}
