/**
 * Where a run keeps its files. The loop only needs these few operations, so it runs the same in
 * Node (a directory, @csq/trainer-node's `fileRunStore`) and in a browser (memory, IndexedDB...).
 */
import type * as tf from '@tensorflow/tfjs-core';

/** Storage of one run directory. Writes of whole files must be atomic (temp file, then rename). */
export interface RunStore {
  /** A human-readable location (a path, or "memory"). */
  readonly location: string;
  readText(name: string): Promise<string | undefined>;
  writeText(name: string, text: string): Promise<void>;
  appendText(name: string, text: string): Promise<void>;
  /**
   * Read-modify-write of a text file, atomic with respect to other writers of the same run
   * (a float baseline trained at the same time in another thread writes metrics.jsonl too).
   */
  updateText(name: string, update: (old: string | undefined) => string): Promise<void>;
  readBytes(name: string): Promise<Uint8Array | undefined>;
  writeBytes(name: string, bytes: Uint8Array): Promise<void>;
  /** A tfjs io handler saving to / loading from the folder `name` of the run. */
  modelHandler(name: string): tf.io.IOHandler;
}

/** A RunStore in memory (browser runs, tests). */
export class MemoryRunStore implements RunStore {
  readonly location = 'memory';
  readonly files = new Map<string, Uint8Array>();
  readonly models = new Map<string, tf.io.ModelArtifacts>();

  async readText(name: string): Promise<string | undefined> {
    const b = this.files.get(name);
    return b ? new TextDecoder().decode(b) : undefined;
  }
  async writeText(name: string, text: string): Promise<void> {
    this.files.set(name, new TextEncoder().encode(text));
  }
  async appendText(name: string, text: string): Promise<void> {
    const old = (await this.readText(name)) ?? '';
    await this.writeText(name, old + text);
  }
  async updateText(name: string, update: (old: string | undefined) => string): Promise<void> {
    await this.writeText(name, update(await this.readText(name)));
  }
  async readBytes(name: string): Promise<Uint8Array | undefined> {
    const b = this.files.get(name);
    return b ? b.slice() : undefined;
  }
  async writeBytes(name: string, bytes: Uint8Array): Promise<void> {
    this.files.set(name, bytes.slice());
  }
  modelHandler(name: string): tf.io.IOHandler {
    return {
      save: async (artifacts) => {
        this.models.set(name, artifacts);
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      },
      load: async () => {
        const a = this.models.get(name);
        if (!a) throw new Error(`no model saved under "${name}" in this memory run store`);
        return a;
      },
    };
  }
}
