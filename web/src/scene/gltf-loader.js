// One way to make a three.js GLTFLoader that decodes what A-Frame's gltf-model system can (Draco, KTX2,
// meshopt), for the scene, avatars and room objects alike.

/** A GLTFLoader with the decoders the page's A-Frame scene (sceneEl) has set up. */
export async function gltfLoader(THREE, sceneEl) {
  const loader = new THREE.GLTFLoader();
  const system = sceneEl?.systems?.["gltf-model"];
  const draco = system?.getDRACOLoader?.();
  if (draco) loader.setDRACOLoader(draco);
  const ktx2 = system?.getKTX2Loader?.();
  if (ktx2) loader.setKTX2Loader(ktx2);
  const meshopt = system?.getMeshoptDecoder?.();
  if (meshopt) loader.setMeshoptDecoder(await meshopt);
  return loader;
}

/** Parses a glb or glTF held in bytes (an ArrayBuffer) fetched from url; relative URIs resolve against url. */
export async function parseGLTF(THREE, sceneEl, bytes, url) {
  const loader = await gltfLoader(THREE, sceneEl);
  const base = url.slice(0, url.lastIndexOf("/") + 1);
  return new Promise((resolve, reject) =>
    loader.parse(bytes, base, resolve, (err) => reject(err instanceof Error ? err : new Error(String(err?.message || err)))),
  );
}
