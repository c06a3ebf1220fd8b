/**
 * Seeded float initializers. A CSQ layer draws its float kernel w from one of these, then
 * builds the bit planes of spec 1 from w, so the same seed gives the same planes.
 */
import { CsqError } from '@csq/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Initializer } from '@tensorflow/tfjs-layers/dist/initializers.js';

/** A float initializer: a tfjs identifier ('heNormal', ...), an Initializer, or its serialized form. */
export type InitializerSpec =
  | string
  | Initializer
  | { className: string; config: tf.serialization.ConfigDict };

type Factory = (seed: number | undefined) => Initializer;

const FACTORIES: Record<string, Factory> = {
  glorotUniform: (seed) => tfl.initializers.glorotUniform({ seed }),
  glorotNormal: (seed) => tfl.initializers.glorotNormal({ seed }),
  heNormal: (seed) => tfl.initializers.heNormal({ seed }),
  heUniform: (seed) => tfl.initializers.heUniform({ seed }),
  leCunNormal: (seed) => tfl.initializers.leCunNormal({ seed }),
  leCunUniform: (seed) => tfl.initializers.leCunUniform({ seed }),
  randomNormal: (seed) => tfl.initializers.randomNormal({ seed }),
  randomUniform: (seed) => tfl.initializers.randomUniform({ seed }),
  truncatedNormal: (seed) => tfl.initializers.truncatedNormal({ seed }),
  zeros: () => tfl.initializers.zeros(),
  ones: () => tfl.initializers.ones(),
};

/** The identifiers `resolveInitializer` accepts as strings. */
export const INITIALIZER_NAMES: readonly string[] = Object.keys(FACTORIES);

function isInitializer(x: unknown): x is Initializer {
  return typeof (x as { apply?: unknown })?.apply === 'function';
}

/**
 * Turns an initializer spec into an Initializer. A string identifier gets `seed` (so the draw is
 * deterministic); an Initializer instance is used as it is; a serialized `{ className, config }`
 * (as in a saved or converted model) is rebuilt through tfjs' class registry.
 */
export function resolveInitializer(spec: InitializerSpec, seed?: number): Initializer {
  if (isInitializer(spec)) return spec;
  if (typeof spec === 'string') {
    const key = spec.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
    const make = FACTORIES[key] ?? FACTORIES[key.charAt(0).toLowerCase() + key.slice(1)];
    if (!make) {
      throw new CsqError(
        'CSQ_BAD_INITIALIZER',
        `unknown initializer "${spec}"; use one of ${INITIALIZER_NAMES.join(', ')}, or pass a ` +
          'tf.initializers.* instance.',
      );
    }
    return make(seed);
  }
  if (spec && typeof spec === 'object' && typeof spec.className === 'string') {
    const entry = tf.serialization.SerializationMap.getMap().classNameMap[spec.className];
    if (!entry) {
      throw new CsqError(
        'CSQ_BAD_INITIALIZER',
        `initializer class "${spec.className}" is not registered with tfjs; import the package ` +
          'that defines it before building or loading the model.',
      );
    }
    const [cls, fromConfig] = entry;
    const config = { ...(spec.config ?? {}) };
    if (seed !== undefined && config['seed'] == null) config['seed'] = seed;
    return fromConfig(cls, config) as unknown as Initializer;
  }
  throw new CsqError(
    'CSQ_BAD_INITIALIZER',
    `cannot use ${JSON.stringify(spec)} as an initializer; pass an identifier such as "heNormal".`,
  );
}

/** The JSON form of an initializer spec for getConfig (identifiers stay strings). */
export function serializeInitializerSpec(
  spec: InitializerSpec,
): string | { className: string; config: tf.serialization.ConfigDict } {
  if (typeof spec === 'string') return spec;
  if (isInitializer(spec)) return { className: spec.getClassName(), config: spec.getConfig() };
  return spec;
}
