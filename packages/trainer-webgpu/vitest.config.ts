import { mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';
import { swiftShaderEnv } from './src/swiftshader.ts';

/**
 * Test workers get the SwiftShader environment (VK_ICD_FILENAMES, and LD_LIBRARY_PATH when the
 * system has no Vulkan loader) so Dawn finds a CPU adapter on machines without a GPU. It must be
 * set before the worker starts: the dynamic loader reads LD_LIBRARY_PATH once.
 */
export default mergeConfig(shared, {
  test: { env: swiftShaderEnv() ?? {} },
});
