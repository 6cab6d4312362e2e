/**
 * The memory caps of one validation run, shared by every CaptureValidator of the run (one per connection of a
 * capture: ./connections.ts). A cap that each connection counted on its own would multiply by the number of
 * connection ids a capture chooses to use; here every held entry of every connection is in one list per kind,
 * oldest first, and a cap evicts the oldest entry of the whole run, whichever connection holds it (its owner
 * reports a finding when that loses a check). Nothing aborts.
 */

/** Entries of one kind held by the validators of a run, oldest first, each with how its owner evicts it. */
export class SharedEntries<E> {
  private readonly entries = new Map<E, (reason: string) => void>();

  get size(): number {
    return this.entries.size;
  }

  add(entry: E, evict: (reason: string) => void): void {
    this.entries.delete(entry);
    this.entries.set(entry, evict);
  }

  delete(entry: E): void {
    this.entries.delete(entry);
  }

  /** Evict the oldest entry of the run (its owner forgets it and reports what is lost). False when empty. */
  evictOldest(reason: string): boolean {
    const oldest = this.entries.entries().next();
    if (oldest.done) return false;
    this.entries.delete(oldest.value[0]);
    oldest.value[1](reason);
    return true;
  }
}

/** What the validators of one run hold together. */
export class CapturePool {
  /** Half-received messages. */
  readonly partials = new SharedEntries<object>();
  /** Requests waiting for a reply. */
  readonly waiting = new SharedEntries<object>();
  /** Requests needing no reply, kept so an optional reply still pairs. */
  readonly optional = new SharedEntries<object>();
  /** Markers of dropped messages whose later chunks are swallowed. */
  readonly broken = new SharedEntries<object>();
  /** Characters half-received messages hold, all validators together. */
  chars = 0;
  /** Most characters `chars` reached. */
  peakChars = 0;

  addChars(delta: number): void {
    this.chars += delta;
    if (this.chars > this.peakChars) this.peakChars = this.chars;
  }
}
