// The web apps are one Vite project built into dist/, which is committed and embedded in the Go binary, so a
// fresh clone runs with Go alone. The build must be reproducible: `make test` rebuilds and compares.
import { defineConfig } from "vite";
import { resolve } from "node:path";

const root = import.meta.dirname;

export default defineConfig({
  root,
  base: "/",
  publicDir: false,
  resolve: {
    alias: {
      // These packages ship prebuilt bundles (which include their pinned dependencies) that their package.json
      // exports do not list, so they are addressed by file.
      "networked-aframe-dist": resolve(root, "node_modules/networked-aframe/dist/networked-aframe.min.js"),
      "aframe-extras-dist": resolve(root, "node_modules/aframe-extras/dist/aframe-extras.min.js"),
    },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 2500,
    rollupOptions: {
      input: {
        home: resolve(root, "index.html"),
        hub: resolve(root, "hub.html"),
        cost: resolve(root, "cost.html"),
      },
    },
  },
});
