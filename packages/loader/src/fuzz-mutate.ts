/**
 * Seeded mutations of packed files for the fuzz suite (issue #16): each case edits a valid file
 * the way damage or an attacker would and then recomputes every checksum, so that only the
 * loader's own checks stand between the file and tfjs. Test code, not exported.
 */
import { rng } from '@csq/test-utils';
import { reseal, sections, withManifestText } from './test-files.js';

type Json = unknown;

const NUMBERS = [
  0,
  -1,
  1,
  2,
  3,
  7,
  8,
  16,
  17,
  31,
  255,
  256,
  65_535,
  65_536,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  1e9,
  1e39,
  -1e39,
  0.5,
  -0.5,
  1e-45,
  3.4e38,
];
const STRINGS = [
  '',
  'ghost',
  'float64',
  'int32',
  'string',
  'complex64',
  'codes',
  'rans',
  'packed',
  'float32',
  'Conv2D',
  'Dense',
  'InputLayer',
  'Model',
  'Sequential',
  'constructor',
  '__proto__',
  'toString',
  'same',
  'valid',
  'relu',
  'linear',
  'channels_first',
  'x'.repeat(300),
];

/** Every [container, key] in a JSON tree (depth first), for picking a random place. */
function places(root: Json): [Record<string, Json> | Json[], string | number][] {
  const out: [Record<string, Json> | Json[], string | number][] = [];
  const visit = (node: Json) => {
    if (Array.isArray(node)) {
      node.forEach((v, i) => {
        out.push([node, i]);
        visit(v);
      });
    } else if (node !== null && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        out.push([node as Record<string, Json>, k]);
        visit(v);
      }
    }
  };
  visit(root);
  return out;
}

/** One random structural edit of a JSON value tree (in place); returns a description. */
function mutateJson(root: Json, r: () => number, names: string[]): string {
  const all = places(root);
  const [parent, key] = all[Math.floor(r() * all.length)]!;
  const get = () => (parent as Record<string | number, Json>)[key];
  const set = (v: Json) => {
    (parent as Record<string | number, Json>)[key] = v;
  };
  const old = get();
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const op = Math.floor(r() * 8);
  switch (op) {
    case 0:
      set(pick(NUMBERS));
      return `${String(key)} = number`;
    case 1:
      set(r() < 0.6 ? pick(names) : pick(STRINGS));
      return `${String(key)} = string`;
    case 2:
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete (parent as Record<string, Json>)[key as string];
      return `delete ${String(key)}`;
    case 3:
      if (Array.isArray(parent)) parent.splice(key as number, 0, structuredClone(old));
      else set([old, old]);
      return `duplicate ${String(key)}`;
    case 4:
      set(pick([null, true, [], {}, [[]], [0], [null, 1e9], [-1, 2]]));
      return `${String(key)} = odd value`;
    case 5: {
      // swap with another place's value (moves names, shapes, references around)
      const [p2, k2] = pick(all);
      const other = (p2 as Record<string | number, Json>)[k2];
      set(structuredClone(other));
      return `${String(key)} = copy of ${String(k2)}`;
    }
    case 6:
      if (typeof old === 'number') set(old + pick([-1, 1, 2, -2, 1000]));
      else if (Array.isArray(old) && old.length > 1) old.reverse();
      else set(pick(names));
      return `nudge ${String(key)}`;
    default:
      if (Array.isArray(parent)) parent.push(structuredClone(old));
      else
        (parent as Record<string, Json>)[pick(['dtype', 'inbound_nodes', 'coding', 'shape'])] = old;
      return `add near ${String(key)}`;
  }
}

/** Layer and weight names of a file, so that mutations move real references around. */
function namesOf(json: string): string[] {
  return [...new Set([...json.matchAll(/"name":"([^"]+)"/g)].map((m) => m[1]!))];
}

/**
 * The `i`-th mutation of `file` (deterministic in `seed` and `i`): a structural edit of the
 * manifest (most cases), byte changes in the manifest text, the payload or the compressed
 * section, or header lengths, truncation and extension; checksums recomputed throughout.
 */
export function mutate(
  file: Uint8Array,
  seed: number,
  i: number,
): { bytes: Uint8Array; what: string } {
  const r = rng((seed * 1_000_003 + i * 7919) >>> 0);
  const s = sections(file);
  const kind = r();
  if (kind < 0.55) {
    const m = JSON.parse(s.json) as Json;
    const names = namesOf(s.json);
    const edits = 1 + Math.floor(r() * 3);
    const what: string[] = [];
    for (let k = 0; k < edits; k++) what.push(mutateJson(m, r, names));
    return { bytes: withManifestText(file, JSON.stringify(m)), what: `json: ${what.join('; ')}` };
  }
  if (kind < 0.65) {
    const text = [...s.json];
    const at = Math.floor(r() * text.length);
    text[at] = String.fromCharCode(32 + Math.floor(r() * 95));
    return { bytes: withManifestText(file, text.join('')), what: `text byte ${at}` };
  }
  const bytes = Uint8Array.from(file);
  const payloadStart = file.length - s.payload.length;
  if (kind < 0.85 && s.payload.length > 0) {
    const n = 1 + Math.floor(r() * 4);
    for (let k = 0; k < n; k++) {
      const at = payloadStart + Math.floor(r() * s.payload.length);
      bytes[at] = r() < 0.5 ? bytes[at]! ^ (1 << Math.floor(r() * 8)) : Math.floor(r() * 256);
    }
    return { bytes: reseal(bytes), what: 'payload bytes' };
  }
  if (kind < 0.93) {
    const at = 32 + Math.floor(r() * (payloadStart - 32));
    bytes[at] = Math.floor(r() * 256);
    return { bytes: reseal(bytes), what: `manifest section byte ${at}` };
  }
  const view = new DataView(bytes.buffer);
  const which = Math.floor(r() * 3);
  if (which === 0) {
    const cut = Math.floor(r() * bytes.length);
    const short = bytes.slice(0, cut);
    return { bytes: cut < 32 ? short : reseal(short), what: `truncated to ${cut}` };
  }
  if (which === 1) {
    const m = view.getUint32(12, true);
    return {
      bytes: reseal(bytes, { manifestLength: m + Math.floor(r() * 9) - 4 }),
      what: 'manifest length',
    };
  }
  const longer = new Uint8Array(bytes.length + 1 + Math.floor(r() * 16));
  longer.set(bytes);
  const p = view.getUint32(16, true);
  return {
    bytes: reseal(longer, { payloadLength: p + longer.length - bytes.length }),
    what: 'extended payload',
  };
}
