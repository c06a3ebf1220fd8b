import { existsSync } from 'node:fs';
import { mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

/**
 * Chromium finds SwiftShader's Vulkan driver (WebGPU on a machine without a GPU) through
 * VK_ICD_FILENAMES, read when the browser starts: the test process passes it on.
 */
const icd = '/usr/lib/chromium/vk_swiftshader_icd.json';
export default mergeConfig(shared, {
  test: {
    env: existsSync(icd) && !process.env.VK_ICD_FILENAMES ? { VK_ICD_FILENAMES: icd } : {},
    testTimeout: 180_000,
  },
});
