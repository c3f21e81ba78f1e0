// A procedural daylight sky for the Hubs `skybox` component and the default scene.
//
// Hubs draws a physically based sky; this is a cheaper gradient that takes the same parameters so a scene's sky
// looks roughly as its author set it: the sun's place (inclination, azimuth), how hazy the horizon is
// (turbidity), how blue the zenith is (rayleigh), the glow around the sun (mieCoefficient, mieDirectionalG)
// and overall brightness (luminance). It is a sphere drawn behind everything.

const VERTEX = /* glsl */ `
varying vec3 vDirection;
void main() {
  vDirection = position;
  vec4 p = projectionMatrix * modelViewMatrix * vec4(position, 1.0);
  gl_Position = p.xyww; // always on the far plane
}
`;

const FRAGMENT = /* glsl */ `
uniform vec3 sunDirection;
uniform float turbidity;
uniform float rayleigh;
uniform float skyLuminance;
uniform float mieCoefficient;
uniform float mieDirectionalG;
varying vec3 vDirection;

void main() {
  vec3 dir = normalize(vDirection);
  vec3 sun = normalize(sunDirection);
  float elevation = sun.y;
  // 0 at night, 1 in full day; dusk in between.
  float day = smoothstep(-0.12, 0.3, elevation);
  float dusk = (1.0 - smoothstep(0.0, 0.35, abs(elevation))) * step(-0.2, elevation);

  float blue = clamp(rayleigh / 2.0, 0.2, 1.5);
  vec3 zenith = mix(vec3(0.004, 0.006, 0.02), vec3(0.06, 0.16, 0.55) * blue, day);
  float haze = clamp(turbidity / 10.0, 0.0, 2.0);
  vec3 horizon = mix(vec3(0.02, 0.02, 0.04), mix(vec3(0.35, 0.55, 0.9), vec3(0.8, 0.82, 0.85), haze * 0.5), day);
  horizon = mix(horizon, vec3(0.9, 0.45, 0.2), dusk * 0.6);

  float up = max(dir.y, 0.0);
  vec3 color = mix(horizon, zenith, pow(up, 0.45));
  // below the horizon: fade to a dim ground haze
  color = mix(color, horizon * 0.35, smoothstep(0.0, -0.25, dir.y));

  float toSun = max(dot(dir, sun), 0.0);
  vec3 sunColor = mix(vec3(1.0, 0.55, 0.25), vec3(1.0, 0.95, 0.85), day);
  float glow = pow(toSun, mix(4.0, 64.0, clamp(mieDirectionalG, 0.0, 1.0))) * clamp(mieCoefficient * 20.0, 0.05, 2.0);
  float disc = smoothstep(0.9992, 0.9996, toSun);
  color += sunColor * (glow * 0.6 + disc * 6.0) * step(-0.05, elevation);

  gl_FragColor = vec4(color * max(skyLuminance, 0.0), 1.0);
  #include <tonemapping_fragment>
  #include <colorspace_fragment>
}
`;

/** The unit vector towards the sun, from Hubs' skybox inclination and azimuth. */
export function sunDirection(inclination = 0, azimuth = 0.15) {
  const theta = Math.PI * (inclination - 0.5);
  const phi = 2 * Math.PI * (azimuth - 0.5);
  const x = Math.cos(phi);
  const y = Math.sin(phi) * Math.sin(theta);
  const z = Math.sin(phi) * Math.cos(theta);
  const len = Math.hypot(x, y, z) || 1;
  return { x: x / len, y: y / len, z: z / len };
}

export const SKY_DEFAULTS = Object.freeze({
  turbidity: 10,
  rayleigh: 2,
  luminance: 1,
  mieCoefficient: 0.005,
  mieDirectionalG: 0.8,
  inclination: 0,
  azimuth: 0.15,
  distance: 8000,
});

/** A sky mesh for the given skybox parameters (any missing one takes Hubs' default). */
export function createSky(THREE, params = {}) {
  const p = { ...SKY_DEFAULTS };
  for (const k of Object.keys(SKY_DEFAULTS)) {
    if (typeof params[k] === "number" && Number.isFinite(params[k])) p[k] = params[k];
  }
  const sun = sunDirection(p.inclination, p.azimuth);
  const material = new THREE.ShaderMaterial({
    name: "toncon-sky",
    uniforms: {
      sunDirection: { value: new THREE.Vector3(sun.x, sun.y, sun.z) },
      turbidity: { value: p.turbidity },
      rayleigh: { value: p.rayleigh },
      skyLuminance: { value: p.luminance },
      mieCoefficient: { value: p.mieCoefficient },
      mieDirectionalG: { value: p.mieDirectionalG },
    },
    vertexShader: VERTEX,
    fragmentShader: FRAGMENT,
    side: THREE.BackSide,
    depthWrite: false,
    fog: false,
  });
  // Drawn on the far plane, so its size only has to keep it inside the camera's range.
  const mesh = new THREE.Mesh(new THREE.SphereGeometry(1, 32, 16), material);
  mesh.name = "Sky";
  mesh.scale.setScalar(Math.min(1000, Math.max(10, p.distance)));
  mesh.frustumCulled = false;
  mesh.renderOrder = -1000;
  mesh.userData.sunDirection = sun;
  return mesh;
}
