/**
 * Ctrl-C during training: the first SIGINT asks the loop to stop after the current batch (it
 * then saves a checkpoint and returns); a second one exits at once.
 */

/** An AbortSignal that fires on the first SIGINT; call `dispose()` when training is over. */
export function interruptSignal(opts: { onFirst?: () => void; exitCode?: number } = {}): {
  signal: AbortSignal;
  dispose(): void;
} {
  const controller = new AbortController();
  const handler = () => {
    if (controller.signal.aborted) {
      process.exit(opts.exitCode ?? 130);
    }
    opts.onFirst?.();
    controller.abort();
  };
  process.on('SIGINT', handler);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', handler) };
}
