/**
 * SGD with momentum and weight decay in one parameter group, with PyTorch's semantics
 * (spec 6): d = g + wd * w; buf = momentum * buf + d (buf = d on the first step); w -= lr * buf.
 * Its state is plain tensors so checkpoints can save and restore it exactly.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * Kernel that runs one momentum step in a single pass when registered for the active backend
 * (@csq/backend-wasm-kernels registers it for wasm): inputs v, g, buf; attrs lr, momentum,
 * weightDecay; outputs v', buf' (the same float32 operations, in the same order, as below).
 */
export const SGD_MOMENTUM_KERNEL = 'CsqSgdMomentum';

function fused(): boolean {
  return tf.getKernel(SGD_MOMENTUM_KERNEL, tf.getBackend()) != null;
}

/** Momentum SGD over a fixed list of variables. */
export class SgdMomentum {
  private readonly buffers = new Map<tf.Variable, tf.Variable>();

  constructor(
    public momentum: number,
    public weightDecay: number,
  ) {}

  /**
   * One update of `vars` with `grads` (same order; a missing gradient counts as 0, as PyTorch
   * skips parameters without .grad: no decay, no momentum step).
   */
  step(vars: readonly tf.Variable[], grads: readonly (tf.Tensor | undefined)[], lr: number): void {
    tf.tidy(() => {
      vars.forEach((v, i) => {
        const g = grads[i];
        if (!g) return;
        const d = this.weightDecay > 0 ? tf.add(g, tf.mul(v, this.weightDecay)) : g;
        let buf = this.buffers.get(v);
        if (buf && this.momentum > 0 && fused()) {
          // one pass on backends with csq's kernel (@csq/backend-wasm-kernels on wasm)
          const [next, nextBuf] = tf.engine().runKernel(SGD_MOMENTUM_KERNEL, { v, g, buf }, {
            lr,
            momentum: this.momentum,
            weightDecay: this.weightDecay,
          } as unknown as tf.NamedAttrMap) as tf.Tensor[];
          buf.assign(nextBuf!);
          v.assign(next!);
          return;
        }
        if (!buf) {
          buf = tf.variable(d, false);
          this.buffers.set(v, buf);
        } else if (this.momentum > 0) {
          buf.assign(tf.add(tf.mul(buf, this.momentum), d));
        } else {
          buf.assign(d);
        }
        v.assign(tf.sub(v, tf.mul(buf, lr)));
      });
    });
  }

  /** Momentum buffers of `vars` in order (undefined where no step has run yet). */
  getState(vars: readonly tf.Variable[]): (tf.Tensor | undefined)[] {
    return vars.map((v) => this.buffers.get(v));
  }

  /** Restores buffers (same order as `vars`); undefined entries clear that buffer. */
  setState(vars: readonly tf.Variable[], state: readonly (tf.Tensor | undefined)[]): void {
    vars.forEach((v, i) => {
      const s = state[i];
      const old = this.buffers.get(v);
      if (old) {
        old.dispose();
        this.buffers.delete(v);
      }
      if (s) this.buffers.set(v, tf.variable(s, false));
    });
  }

  /** Drops every buffer (a fresh optimizer, e.g. after a rewind). */
  reset(): void {
    for (const b of this.buffers.values()) b.dispose();
    this.buffers.clear();
  }

  dispose(): void {
    this.reset();
  }
}
