/**
 * The few WebGPU interfaces csq touches, typed structurally so that neither users nor this
 * package need the `@webgpu/types` globals: a browser's `navigator.gpu` and the `webgpu`
 * package's `create()` both satisfy them.
 */

/** What `GPUAdapter.info` carries (WebGPU spec "GPUAdapterInfo"). */
export interface GpuAdapterInfoLike {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly device?: string;
  readonly description?: string;
  readonly isFallbackAdapter?: boolean;
}

/** The parts of a `GPUDevice` csq uses. */
export interface GpuDeviceLike {
  destroy(): void;
  readonly lost?: Promise<{ reason?: string; message?: string }>;
}

/** The parts of a `GPUAdapter` csq uses. */
export interface GpuAdapterLike {
  readonly features: { has(name: string): boolean; [Symbol.iterator](): Iterator<string> };
  // biome-ignore lint/suspicious/noExplicitAny: GPUSupportedLimits is a host object of numbers.
  readonly limits: any;
  readonly info?: GpuAdapterInfoLike;
  readonly isFallbackAdapter?: boolean;
  requestAdapterInfo?(): Promise<GpuAdapterInfoLike>;
  requestDevice(descriptor?: {
    requiredFeatures?: string[];
    requiredLimits?: Record<string, number>;
  }): Promise<GpuDeviceLike>;
}

/** The parts of `GPU` (`navigator.gpu`) csq uses. */
export interface GpuLike {
  requestAdapter(options?: {
    powerPreference?: 'low-power' | 'high-performance';
    forceFallbackAdapter?: boolean;
  }): Promise<GpuAdapterLike | null>;
}
