// aframe-extras' prebuilt bundle is UMD: built as CommonJS it calls require("THREE"). vite.config.js points that
// name here, at the three.js that A-Frame brings and puts on window, so there is one three.js on the page.
const THREE = globalThis.THREE || globalThis.AFRAME?.THREE;
if (!THREE) throw new Error("three.js is not loaded: import aframe before aframe-extras");
export default THREE;
