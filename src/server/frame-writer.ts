/**
 * A stream's frames onto its response. Frames written in one turn of the event loop (the parts of
 * one upstream read, and the stream's end when it comes in the same turn) leave in one socket
 * write: gathered here and handed to the socket before the loop waits again (setImmediate), so
 * nothing is held beyond the turn. The end goes out with res.end(frames): frames and the closing
 * chunk in one write, and never a corked response ending (Node 22 drops what a corked response holds).
 */
import type { ServerResponse } from 'node:http';

/** frames up to this many characters in all are joined into one string; more are written as they are */
const JOIN_BELOW = 65_536;

export class FrameWriter {
  private pending: string[] = [];
  private flushing: NodeJS.Immediate | undefined;

  constructor(private readonly res: ServerResponse) {}

  /** frames to go out this turn */
  write(frames: string[]): void {
    if (!frames.length || this.res.writableEnded) return;
    this.pending.push(...frames);
    this.flushSoon();
  }

  /** a write at the end of this turn: the headers leave then, with whatever frames it brought */
  flushSoon(): void {
    this.flushing ??= setImmediate(() => this.flush());
  }

  /** what is pending and the response's end, in one write */
  end(): void {
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = undefined;
    if (this.res.writableEnded) return;
    const out = this.take();
    if (out === undefined) this.res.end();
    else if (typeof out === 'string') this.res.end(out);
    else {
      for (const f of out.slice(0, -1)) this.res.write(f);
      this.res.end(out.at(-1));
    }
  }

  private flush(): void {
    this.flushing = undefined;
    const { res } = this;
    if (res.writableEnded || res.destroyed) {
      this.pending = [];
      return;
    }
    const out = this.take();
    // opened with nothing to say yet: the headers leave on their own
    if (out === undefined) {
      if (!res.headersSent) res.flushHeaders();
      return;
    }
    if (typeof out === 'string') {
      res.write(out);
      return;
    }
    res.cork();
    for (const f of out) res.write(f);
    res.uncork();
  }

  /**
   * The pending frames: small ones as one string; large ones (a long answer's closing events
   * repeat its whole text) as they are, not copied into one more string.
   */
  private take(): string | string[] | undefined {
    const frames = this.pending;
    if (!frames.length) return undefined;
    this.pending = [];
    if (frames.length === 1) return frames[0]!;
    return frames.reduce((n, f) => n + f.length, 0) < JOIN_BELOW ? frames.join('') : frames;
  }
}
