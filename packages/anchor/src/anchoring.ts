import type { AnchorTarget, Publication } from "./targets.js";

/** What the anchor reads from a running log engine (a `LogEngine` fits). */
export interface CheckpointSource {
  listLogs(): Promise<string[]>;
  checkpoint(log: string): Promise<{ readonly treeSize: number; readonly note: string } | undefined>;
}

export interface AnchoringOptions {
  readonly source: CheckpointSource;
  readonly targets: readonly AnchorTarget[];
  readonly intervalMs: number;
  /** A failed publication is reported here and retried next round; it never stops the server. */
  readonly onError: (message: string) => void;
  readonly onPublished?: (target: AnchorTarget, publication: Publication) => void;
}

export interface Anchoring {
  /** Publishes every log's latest checkpoint that a target has not had yet. */
  publishNow(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Publishes each log's latest signed checkpoint to every target, at most once per interval, so a
 * later rewrite of the whole store (entries, tiles and checkpoints together, by someone holding the
 * signing key) is still caught: the rewritten log cannot prove consistency with what was published.
 */
export function startAnchoring(options: AnchoringOptions): Anchoring {
  // Per target and log, the tree size last published, so an idle log costs nothing.
  const published = new Map<AnchorTarget, Map<string, number>>(options.targets.map((t) => [t, new Map()]));
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  const round = async (): Promise<void> => {
    const logs = await options.source.listLogs();
    for (const log of logs) {
      const checkpoint = await options.source.checkpoint(log);
      if (!checkpoint) continue;
      const publication: Publication = { log, treeSize: checkpoint.treeSize, note: checkpoint.note };
      for (const target of options.targets) {
        const done = published.get(target) as Map<string, number>;
        if (done.get(log) === checkpoint.treeSize) continue;
        try {
          const outcome = await target.publish(publication);
          done.set(log, checkpoint.treeSize);
          if (outcome === "published") options.onPublished?.(target, publication);
        } catch (error) {
          options.onError(`anchor ${target.description}: ${log} at size ${checkpoint.treeSize}: ${(error as Error).message}`);
        }
      }
    }
  };

  const publishNow = (): Promise<void> => {
    running = running.then(round).catch((error) => options.onError(`anchor: ${(error as Error).message}`));
    return running;
  };
  const timer = setInterval(() => {
    if (!stopped) void publishNow();
  }, options.intervalMs);
  void publishNow();
  return {
    publishNow,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
