/** File contents for `fs.files` documents (GridFS stand-in): bytes by file id, kept beside the store. */
export class FileStore {
  private readonly contents = new Map<string, Buffer>();

  put(id: string, bytes: Buffer): void {
    this.contents.set(id, bytes);
  }

  get(id: string): Buffer | undefined {
    return this.contents.get(id);
  }

  removeContent(id: string): void {
    this.contents.delete(id);
  }

  clear(): void {
    this.contents.clear();
  }
}
