/**
 * A capture file being written (`proxy --out`, `serve --record`): lines go to a file stream; `backedUp` says when
 * the disk is behind (the proxy then stops reading until `drain`), and a write error is kept and reported by
 * `close()` instead of ending the process that records.
 */
import { createWriteStream } from "node:fs";

export interface CaptureFile {
  readonly path: string;
  write(line: string): void;
  /** More than the stream's buffer is waiting to be written. */
  readonly backedUp: boolean;
  /** Called each time the buffered lines have been written out. */
  onDrain(handler: () => void): void;
  /** Flush and close; rejects with the first write error, naming the file. */
  close(): Promise<void>;
}

/** Create (or truncate) `path`; rejects with a message naming the file when it cannot be opened. */
export async function openCaptureFile(path: string): Promise<CaptureFile> {
  // 4 MiB of lines may wait for the disk before the proxy stops reading (backedUp).
  const stream = createWriteStream(path, { flags: "w", highWaterMark: 4 * 1024 * 1024 });
  await new Promise<void>((resolve, reject) => {
    stream.once("open", () => resolve());
    stream.once("error", (err) => reject(new Error(`cannot write capture ${path}: ${err.message}`)));
  });
  let failure: Error | undefined;
  stream.on("error", (err) => {
    failure ??= new Error(`writing capture ${path} failed: ${err.message}`);
  });
  const drainHandlers: (() => void)[] = [];
  stream.on("drain", () => {
    for (const h of drainHandlers) h();
  });
  // Lines written in one turn of the event loop go to the file in one write (cork until the next turn).
  let corked = false;
  const uncork = (): void => {
    corked = false;
    stream.uncork();
  };
  return {
    path,
    write(line) {
      if (failure || stream.destroyed) return;
      if (!corked) {
        corked = true;
        stream.cork();
        setImmediate(uncork);
      }
      stream.write(line);
    },
    get backedUp() {
      return !failure && stream.writableNeedDrain;
    },
    onDrain(handler) {
      drainHandlers.push(handler);
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        const done = (): void => (failure ? reject(failure) : resolve());
        if (stream.destroyed) return done();
        if (corked) uncork();
        stream.end(() => done());
        stream.once("error", () => done());
      });
    },
  };
}
