/**
 * The explorer's build: the app in this folder, the engine imported from src/ as it is. Two modules
 * touch Node (the native addon's loader and the real-data reader); the browser gets stand-ins that
 * say so, and nothing else of Node is bundled.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

const NODE_ONLY: Record<string, string> = {
  [here('../../linalg/nativeBackend.ts')]: here('./nodeOnly/nativeBackend.ts'),
  [here('../../data/real.ts')]: here('./nodeOnly/real.ts'),
};

function browserStandIns(): Plugin {
  return {
    name: 'featlab-browser-stand-ins',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
      return resolved && NODE_ONLY[resolved.id] ? NODE_ONLY[resolved.id] : null;
    },
  };
}

export default defineConfig({
  root: here('.'),
  base: '/',
  plugins: [browserStandIns()],
  worker: { format: 'es', plugins: () => [browserStandIns()] },
  build: {
    outDir: here('../../../dist/web'),
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 2000,
  },
});
