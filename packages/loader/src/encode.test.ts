import { CsqError } from '@csq/core';
import { describe, expect, it } from 'vitest';
import { decodePackedModel } from './decode.js';
import { encodePackedModel } from './encode.js';
import type { PackedModelInput, PackedWeightInput } from './format.js';

const topology = { class_name: 'Sequential', config: { name: 's', layers: [] } };
const kernel = (
  over: Partial<Extract<PackedWeightInput, { kind: 'codes' }>> = {},
): PackedWeightInput => ({
  name: 'fc/kernel',
  shape: [2, 2],
  kind: 'codes',
  codes: [1, -3, 0, 2],
  bits: 2,
  scale: 1,
  positions: [0, 1],
  ...over,
});

function inputError(model: PackedModelInput): CsqError {
  try {
    encodePackedModel(model);
  } catch (e) {
    expect(e).toBeInstanceOf(CsqError);
    return e as CsqError;
  }
  throw new Error('encodePackedModel accepted bad input');
}

describe('encodePackedModel input checks', () => {
  it('accepts a topology given as a JSON string', () => {
    const bytes = encodePackedModel({ topology: JSON.stringify(topology), weights: [kernel()] });
    expect(decodePackedModel(bytes).topology).toEqual(topology);
  });

  it.each([
    ['a whole model.json', { modelTopology: topology }, /modelTopology/],
    ['no class_name', { config: {} }, /class_name/],
    ['an array', [], /must be an object/],
    ['bad JSON text', '{', /not JSON/],
  ])('refuses a topology that is %s', (_, t, message) => {
    const e = inputError({ topology: t as object, weights: [] });
    expect(e.code).toBe('CSQ_PACKED_INPUT');
    expect(e.message).toMatch(message);
  });

  it.each([
    ['too few codes', kernel({ codes: [1, 2, 3] }), /3 codes for shape \[2, 2\] \(4 weights\)/],
    [
      'a code the positions cannot make',
      kernel({ positions: [0], codes: [1, 0, 0, 0] }),
      /code 0 = 1 cannot be made of signed digits at positions \[0\]/,
    ],
    ['a code out of range', kernel({ codes: [4, 0, 0, 0] }), /\|code\| <= 3/],
    ['a fractional code', kernel({ codes: [0.5, 0, 0, 0] }), /code 0 = 0.5/],
    ['unsorted positions', kernel({ positions: [1, 0] }), /strictly ascending/],
    ['a position >= bits', kernel({ positions: [0, 2] }), /0\.\.1/],
    ['bad bits', kernel({ bits: 0 }), /bits must be an integer from 1 to 16/],
    ['a NaN scale', kernel({ scale: Number.NaN }), /scale must be a finite float32 number/],
    ['a scale past float32', kernel({ scale: 1e39 }), /scale must be a finite float32 number/],
    ['a bad shape', kernel({ shape: [2, -2] }), /non-negative integers/],
    ['no name', kernel({ name: '' }), /non-empty string/],
    [
      'an unknown kind',
      { ...kernel(), kind: 'int8' } as unknown as PackedWeightInput,
      /kind must be 'codes' or 'float32', got "int8"/,
    ],
    [
      'float values of the wrong length',
      { name: 'b', shape: [3], kind: 'float32', values: [1, 2] } as PackedWeightInput,
      /2 values for shape \[3\]/,
    ],
  ])('refuses %s, naming the tensor', (_, w, message) => {
    const e = inputError({ topology, weights: [w] });
    expect(e.code).toBe('CSQ_PACKED_INPUT');
    expect(e.message).toMatch(message);
    expect(e.message).toContain('weights[0]');
  });

  it('refuses NaN float values', () => {
    const e = inputError({
      topology,
      weights: [{ name: 'bn/gamma', shape: [2], kind: 'float32', values: [1, Number.NaN] }],
    });
    expect(e.code).toBe('CSQ_NON_FINITE_WEIGHT');
    expect(e.message).toMatch(/"bn\/gamma".*value 1 is NaN/);
  });

  it('refuses meta that is not an object', () => {
    expect(inputError({ topology, weights: [], meta: [] as never }).message).toMatch(/meta/);
  });

  it('round-trips extreme codes of 16-bit layers and negative scales', () => {
    const q = 2 ** 16 - 1;
    const w = kernel({
      bits: 16,
      positions: Array.from({ length: 16 }, (_, i) => i),
      codes: [q, -q, 0, 12345],
      scale: -0.5,
    });
    const d = decodePackedModel(encodePackedModel({ topology, weights: [w] })).weights[0]!;
    expect(Array.from(d.codes!)).toEqual([q, -q, 0, 12345]);
    expect(d.values[0]).toBe(-0.5);
    expect(d.values[3]).toBe(Math.fround((-0.5 * 12345) / q));
  });
});
