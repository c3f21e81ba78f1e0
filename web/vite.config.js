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
      // That bundle is UMD and, built as CommonJS, requires "THREE": give it A-Frame's three.js from window.
      THREE: resolve(root, "src/room/three-global.js"),
    },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 2500,
    commonjsOptions: {
      // require("THREE") in aframe-extras' bundle must get three.js itself, not a module namespace around it.
      requireReturnsDefault: (id) => id.endsWith("/src/room/three-global.js"),
    },
    rollupOptions: {
      input: {
        home: resolve(root, "index.html"),
        hub: resolve(root, "hub.html"),
        cost: resolve(root, "cost.html"),
        verify: resolve(root, "verify.html"),
      },
    },
  },
});
