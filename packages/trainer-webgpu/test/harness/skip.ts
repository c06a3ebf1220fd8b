/**
 * Skipping with a printed reason: WebGPU and browser tests skip on machines that lack what they
 * need (never silently, never failing), unless CSQ_REQUIRE_WEBGPU=1 asks that they run.
 */

/** True when CSQ_REQUIRE_WEBGPU=1: a missing adapter or browser is then a failure. */
export function webGpuRequired(): boolean {
  return process.env.CSQ_REQUIRE_WEBGPU === '1';
}

/**
 * Prints why a group of tests is skipped and returns the reason (for `describe.skipIf`), or
 * throws when CSQ_REQUIRE_WEBGPU=1. Returns undefined when `reason` is undefined.
 */
export function skipReason(what: string, reason: string | undefined): string | undefined {
  if (reason === undefined) return undefined;
  if (webGpuRequired())
    throw new Error(`${what}: ${reason} (CSQ_REQUIRE_WEBGPU=1 forbids skipping)`);
  console.warn(`[@csq/trainer-webgpu] SKIPPED ${what}: ${reason}`);
  return reason;
}

/**
 * Skips the running test (`skip` is vitest's `ctx.skip`) with a printed reason when WebGPU is
 * there but what the test drives cannot run on it yet; throws when CSQ_REQUIRE_WEBGPU=1.
 */
export function skipTestBecause(
  skip: (note: string) => never,
  what: string,
  reason: string,
): never {
  if (webGpuRequired())
    throw new Error(`${what}: ${reason} (CSQ_REQUIRE_WEBGPU=1 forbids skipping)`);
  console.warn(`[@csq/trainer-webgpu] SKIPPED ${what}: ${reason}`);
  return skip(reason);
}
