import { closeSync, fdatasyncSync, fsyncSync, ftruncateSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { ConfigError } from "@sealtrail/core";
import type { QueuedEvent } from "./queue-event.js";

/**
 * A local write-ahead file for events not yet acknowledged by the server, so an app restart (or
 * a crash) loses none of them. One JSON line per event (`{"e":...}`) or acknowledgement
 * (`{"a":[ids]}`); opening it replays what was never acknowledged, in order, and compacts the
 * file. The file holds event payloads, so it is created readable by its owner only (0600).
 */
export class Spool {
  readonly #path: string;
  #fd: number;
  #unsynced = false;
  #pending = 0;

  private constructor(path: string, fd: number, pending: number) {
    this.#path = path;
    this.#fd = fd;
    this.#pending = pending;
  }

  /** Opens (or creates) the spool and returns it with the events still to send. */
  static open(path: string): { spool: Spool; replay: QueuedEvent[] } {
    let text = "";
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    const events = new Map<string, QueuedEvent>();
    const lines = text.split("\n");
    for (const [i, line] of lines.entries()) {
      if (line === "") continue;
      let record: { e?: QueuedEvent; a?: string[] };
      try {
        record = JSON.parse(line);
      } catch (cause) {
        // A torn last line is a write cut short by a crash: that event's record() never returned.
        if (i === lines.length - 1) break;
        throw new ConfigError("spool_corrupt", `${path} line ${i + 1} is not JSON`, { cause });
      }
      if (record.e) events.set(record.e.id, record.e);
      for (const id of record.a ?? []) events.delete(id);
    }
    const replay = [...events.values()];
    // Compact: write the survivors to a new file and swap it in atomically.
    const tmp = `${path}.tmp`;
    const out = openSync(tmp, "w", 0o600);
    for (const event of replay) writeSync(out, `${JSON.stringify({ e: event })}\n`);
    fsyncSync(out);
    closeSync(out);
    renameSync(tmp, path);
    return { spool: new Spool(path, openSync(path, "a", 0o600), replay.length), replay };
  }

  get path(): string {
    return this.#path;
  }

  /** Writes the event before record() queues it: once this returns, a process crash keeps it. */
  add(event: QueuedEvent): void {
    writeSync(this.#fd, `${JSON.stringify({ e: event })}\n`);
    this.#pending++;
    this.#unsynced = true;
  }

  /** Forces spooled events to disk (called before each send, so an OS crash loses at most one batch window). */
  sync(): void {
    if (!this.#unsynced) return;
    fdatasyncSync(this.#fd);
    this.#unsynced = false;
  }

  acknowledge(ids: readonly string[]): void {
    if (ids.length === 0) return;
    this.#pending -= ids.length;
    if (this.#pending <= 0) {
      // Nothing left to replay: start the file over instead of growing it forever.
      this.#pending = 0;
      ftruncateSync(this.#fd, 0);
      this.#unsynced = true;
      return;
    }
    writeSync(this.#fd, `${JSON.stringify({ a: ids })}\n`);
    this.#unsynced = true;
  }

  close(): void {
    if (this.#fd < 0) return;
    this.sync();
    closeSync(this.#fd);
    this.#fd = -1;
  }
}
