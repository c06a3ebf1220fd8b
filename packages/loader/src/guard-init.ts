/**
 * Building a packed model's topology with tfjs-layers allocates every weight through its
 * initializer. Before the build, the loader swaps each `*_initializer` of the topology for this
 * guard: it refuses any weight past the elements the file declares (so a topology cannot make
 * the build allocate more than the checked manifest), and creates zeros instead of random
 * values (the file's weights replace them). It serializes as the initializer it replaced, so the
 * loaded model's `toJSON()` is the stored topology.
 */
import { CsqError } from '@csq/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** What one load allows: elements left, and where to report. */
interface GuardContext {
  left: number;
}

const contexts = new Map<number, GuardContext>();
let nextContext = 1;

const Zeros = tfl.initializers.zeros().constructor as new () => {
  apply(shape: number[], dtype?: tf.DataType): tf.Tensor;
};

interface GuardConfig {
  ctx: number;
  /** The layer's name (under `name`, the one key tfjs does not camel-case). */
  name: string;
  original: { className: string; config: tf.serialization.ConfigDict } | null;
}

class CsqPackedGuard extends Zeros {
  /** @nocollapse */
  static className = 'CsqPackedGuard';
  constructor(private readonly cfg: GuardConfig) {
    super();
  }
  override apply(shape: number[], dtype?: tf.DataType): tf.Tensor {
    const ctx = contexts.get(this.cfg.ctx);
    const n = shape.reduce((a, b) => a * b, 1);
    if (!ctx || !(n <= ctx.left)) {
      throw new CsqError(
        'CSQ_PACKED_MISMATCH',
        `packed model weights do not fit its topology: layer "${this.cfg.name}" needs a weight ` +
          `of shape [${shape.join(', ')}] (${n} values), more than the file's weights hold ` +
          `(${ctx?.left ?? 0} values left). The file is damaged or was written for another model.`,
      );
    }
    ctx.left -= n;
    return super.apply(shape, dtype);
  }
  getClassName(): string {
    return this.cfg.original?.className ?? 'Zeros';
  }
  getConfig(): tf.serialization.ConfigDict {
    return this.cfg.original?.config ?? {};
  }
  static fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls(config as never);
  }
}

let registered = false;

type Json = Record<string, unknown>;

function rewrite(node: unknown, ctx: number, layer: string): unknown {
  if (Array.isArray(node)) return node.map((n) => rewrite(n, ctx, layer));
  if (node === null || typeof node !== 'object') return node;
  const obj = node as Json;
  const name = typeof obj['name'] === 'string' ? (obj['name'] as string) : layer;
  const out: Json = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k.endsWith('_initializer') && v !== null && typeof v === 'object') {
      out[k] = { class_name: CsqPackedGuard.className, config: { ctx, name, original: v } };
    } else {
      out[k] = rewrite(v, ctx, name);
    }
  }
  return out;
}

/**
 * Builds `topology` with tfjs-layers, allocating at most `maxElements` weight values in all
 * (the file's checked total): `build` receives the guarded topology.
 */
export async function buildGuarded<T>(
  topology: Json,
  maxElements: number,
  build: (guarded: Json) => Promise<T>,
): Promise<T> {
  if (!registered) {
    tf.serialization.registerClass(
      CsqPackedGuard as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>,
    );
    registered = true;
  }
  const ctx = nextContext++;
  contexts.set(ctx, { left: maxElements });
  try {
    return await build(rewrite(topology, ctx, '?') as Json);
  } finally {
    contexts.delete(ctx);
  }
}
