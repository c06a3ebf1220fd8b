/**
 * model.fit callback lists that mix plain callback objects and tf.Callback instances: tfjs 4.22
 * decides from the first element alone, so `[instance, {...}]` throws "setParams is not a
 * function" and `[{...}, new tf.CustomCallback()]` loops forever. These helpers normalise them.
 */
import * as tfl from '@tensorflow/tfjs-layers';

type CallbackLike = tfl.CustomCallbackArgs | tfl.Callback | tfl.CustomCallback;

/** True for tf.Callback / CustomCallback instances, also from another copy of tfjs-layers. */
function isCallbackInstance(x: unknown): boolean {
  const c = x as { setParams?: unknown; setModel?: unknown };
  return typeof c?.setParams === 'function' && typeof c.setModel === 'function';
}

/**
 * Normalises a model.fit `callbacks` value so that any mix of plain callback objects and
 * tf.Callback instances works: plain objects become tf.CustomCallback, instances stay as they
 * are, and the result is a list of instances (which tfjs takes as it is).
 */
export function fitCallbacks(
  callbacks: CallbackLike | CallbackLike[] | undefined,
  yieldEvery?: tfl.ModelFitArgs['yieldEvery'],
): tfl.CustomCallback[] | undefined {
  if (callbacks === undefined || callbacks === null) return undefined;
  const list = Array.isArray(callbacks) ? callbacks : [callbacks];
  return list.map((c) =>
    isCallbackInstance(c)
      ? (c as tfl.CustomCallback)
      : new tfl.CustomCallback(c as tfl.CustomCallbackArgs, yieldEvery),
  );
}

const INSTALLED = Symbol.for('@csq/budget.fitCallbacks');

type Fittable = {
  fit: (...args: unknown[]) => Promise<unknown>;
  fitDataset: (...args: unknown[]) => Promise<unknown>;
  [INSTALLED]?: true;
};

/**
 * Makes `model.fit` and `model.fitDataset` of this one model pass their `callbacks` through
 * `fitCallbacks` first (an own property on the model; the class is untouched). Idempotent.
 */
export function installFitCallbacks(model: unknown): void {
  const m = model as Fittable;
  if (typeof m?.fit !== 'function' || m[INSTALLED]) return;
  const fit = m.fit;
  const fitDataset = m.fitDataset;
  const fix = (args: unknown) => {
    const a = args as tfl.ModelFitArgs | undefined;
    if (!a || a.callbacks === undefined) return args;
    return { ...a, callbacks: fitCallbacks(a.callbacks as CallbackLike[], a.yieldEvery) };
  };
  Object.defineProperty(m, 'fit', {
    configurable: true,
    writable: true,
    value(this: unknown, x: unknown, y: unknown, args?: unknown) {
      return fit.call(this, x, y, fix(args));
    },
  });
  if (typeof fitDataset === 'function') {
    Object.defineProperty(m, 'fitDataset', {
      configurable: true,
      writable: true,
      value(this: unknown, dataset: unknown, args?: unknown) {
        return fitDataset.call(this, dataset, fix(args));
      },
    });
  }
  Object.defineProperty(m, INSTALLED, { value: true });
}
