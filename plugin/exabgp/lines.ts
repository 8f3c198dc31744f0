// ExaBGP's stream cut into lines, with the length limit enforced while reading.
//
// readline buffers a whole line before handing it over: a line of 512 MiB without a newline
// ends in "Invalid string length" (a crash: ExaBGP respawns us, then gives up) long before any
// check of the finished line could refuse it. Here a line that grows past maxBytes is dropped
// as it arrives, byte counts only, and reported once its newline comes.
export interface LineHandlers {
  line(text: string): void;
  /** A line longer than the limit was skipped; `bytes` is its length. */
  tooLong(bytes: number): void;
}

const LF = 0x0a;
const CR = 0x0d;

export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  /** Bytes of the line being skipped; -1 while not skipping. */
  private skipped = -1;

  constructor(
    private readonly maxBytes: number,
    private readonly on: LineHandlers,
  ) {}

  push(chunk: Buffer): void {
    let from = 0;
    for (let nl = chunk.indexOf(LF); nl >= 0; nl = chunk.indexOf(LF, from)) {
      this.keep(chunk.subarray(from, nl));
      this.emit();
      from = nl + 1;
    }
    if (from < chunk.length) this.keep(chunk.subarray(from));
  }

  /** The stream ended: a last line without its newline still counts. */
  end(): void {
    if (this.size > 0 || this.skipped >= 0) this.emit();
  }

  private keep(b: Buffer): void {
    if (this.skipped >= 0) {
      this.skipped += b.length;
    } else if (this.size + b.length > this.maxBytes) {
      this.skipped = this.size + b.length;
      this.parts = [];
      this.size = 0;
    } else if (b.length > 0) {
      this.parts.push(b);
      this.size += b.length;
    }
  }

  private emit(): void {
    if (this.skipped >= 0) {
      const n = this.skipped;
      this.skipped = -1;
      this.on.tooLong(n);
      return;
    }
    let end = this.size;
    const whole = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.size);
    if (end > 0 && whole[end - 1] === CR) end--; // CRLF is one line break, as for readline
    this.parts = [];
    this.size = 0;
    this.on.line(whole.toString("utf8", 0, end));
  }
}
