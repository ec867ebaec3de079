// What makes a synthetic person (FaceIdentity, fixed per identity) and what changes from photo to photo
// of that person (FaceVariation, per image, scaled by `difficulty`). Coordinates are "face units": the
// image spans [-1, 1] on both axes in the canonical pose, y pointing down, laid out like insightface's
// aligned 112x112 crops (eyes near y = -0.08, mouth near y = 0.62).
import { Random, hashSeed } from './seed.ts';
import type { Rgb } from './raster.ts';

export type HairStyle = 'bald' | 'buzz' | 'short' | 'fringe' | 'long' | 'curly';

export interface FaceIdentity {
  head: { rx: number; ry: number; cy: number; jaw: number };
  skin: Rgb;
  ears: { size: number; y: number };
  hair: { style: HairStyle; color: Rgb; hairline: number; part: number; wave: number; volume: number };
  eyes: { spacing: number; y: number; width: number; height: number; tilt: number; iris: Rgb; irisSize: number };
  brows: { gap: number; thickness: number; length: number; arch: number; tilt: number; color: Rgb };
  nose: { length: number; width: number; bridge: number };
  mouth: { y: number; halfWidth: number; upperLip: number; lowerLip: number; color: Rgb };
  glasses: { shape: 'round' | 'square'; frame: Rgb; tint: Rgb; tintOpacity: number; size: number } | undefined;
  beard: { color: Rgb; opacity: number; mustacheOnly: boolean } | undefined;
  mole: { x: number; y: number; size: number } | undefined;
}

export interface FaceVariation {
  /** Head turn (radians; + turns the features to the image right), tilt and nod. */
  yaw: number;
  roll: number;
  pitch: number;
  /** Centre shift (face units) and zoom. */
  shiftX: number;
  shiftY: number;
  scale: number;
  smile: number;
  mouthOpen: number;
  /** 1 = eyes fully open. */
  eyeOpen: number;
  browRaise: number;
  /** Unit vector towards the light (x right, y down, z towards the camera). */
  light: readonly [number, number, number];
  lightIntensity: number;
  ambient: number;
  /** Per-channel white-balance gains. */
  tint: Rgb;
  background: { top: Rgb; bottom: Rgb };
  shirt: Rgb;
  occluder: { kind: 'bar' | 'blob' | 'scarf'; x: number; y: number; size: number; angle: number; color: Rgb } | undefined;
  /** Blur sigma and noise sigma, in face units and 0..255 grey levels. */
  blur: number;
  noise: number;
  noiseSeed: number;
}

const SKIN_TONES: Rgb[] = [
  [255, 224, 196], [241, 194, 160], [224, 172, 130], [198, 140, 100],
  [170, 110, 75], [141, 85, 55], [110, 65, 42], [80, 50, 35],
];
const HAIR_COLORS: Rgb[] = [[25, 20, 18], [60, 40, 28], [105, 70, 40], [150, 80, 40], [200, 160, 95], [130, 130, 130], [225, 220, 210]];
const IRIS_COLORS: Rgb[] = [[70, 45, 25], [110, 75, 40], [60, 110, 160], [80, 130, 80], [120, 120, 110], [40, 30, 25]];
const FRAME_COLORS: Rgb[] = [[20, 20, 20], [90, 55, 30], [170, 170, 175], [140, 20, 30], [30, 40, 120]];
const HAIR_STYLES: HairStyle[] = ['bald', 'buzz', 'short', 'short', 'fringe', 'long', 'long', 'curly'];

const mix = (a: Rgb, b: Rgb, t: number): Rgb => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
const jitter = (c: Rgb, random: Random, amount: number): Rgb => c.map((v) => Math.min(255, Math.max(0, v + random.uniform(-amount, amount)))) as unknown as Rgb;

/** The fixed traits of identity `identity` under `seed`: the same numbers on every call. */
export function sampleIdentity(seed: number, identity: number): FaceIdentity {
  const r = new Random(hashSeed(seed, 1, identity));
  const toneAt = r.uniform(0, SKIN_TONES.length - 1);
  const skin = jitter(mix(SKIN_TONES[Math.floor(toneAt)]!, SKIN_TONES[Math.ceil(toneAt)]!, toneAt % 1), r, 10);
  const hairColor = jitter(r.pick(HAIR_COLORS), r, 12);
  const style = r.pick(HAIR_STYLES);
  const head = { rx: r.uniform(0.64, 0.84), ry: r.uniform(0.88, 1.02), cy: r.uniform(-0.04, 0.06), jaw: r.uniform(0.45, 0.9) };
  const eyesY = r.uniform(-0.16, 0.0);
  const eyeWidth = r.uniform(0.11, 0.17);
  return {
    head,
    skin,
    ears: { size: r.uniform(0.12, 0.2), y: eyesY + r.uniform(0.05, 0.15) },
    hair: { style, color: hairColor, hairline: r.uniform(-0.62, -0.4), part: r.uniform(-0.3, 0.3), wave: r.uniform(0, 0.05), volume: r.uniform(1.02, 1.12) },
    eyes: {
      spacing: r.uniform(0.25, 0.36),
      y: eyesY,
      width: eyeWidth,
      height: r.uniform(0.05, 0.085),
      tilt: r.uniform(-0.15, 0.2),
      iris: jitter(r.pick(IRIS_COLORS), r, 10),
      irisSize: r.uniform(0.4, 0.6),
    },
    brows: {
      gap: r.uniform(0.08, 0.15),
      thickness: r.uniform(0.022, 0.045),
      length: r.uniform(0.17, 0.26),
      arch: r.uniform(-0.01, 0.06),
      tilt: r.uniform(-0.15, 0.15),
      color: mix(hairColor, [20, 15, 10], r.uniform(0.2, 0.6)),
    },
    nose: { length: r.uniform(0.22, 0.38), width: r.uniform(0.08, 0.16), bridge: r.uniform(0.02, 0.05) },
    mouth: {
      y: r.uniform(0.5, 0.68),
      halfWidth: r.uniform(0.15, 0.27),
      upperLip: r.uniform(0.02, 0.04),
      lowerLip: r.uniform(0.025, 0.055),
      color: mix(skin, [165, 40, 55], r.uniform(0.45, 0.8)),
    },
    glasses: r.chance(0.25)
      ? { shape: r.chance(0.5) ? 'round' : 'square', frame: r.pick(FRAME_COLORS), tint: [40, 40, 50], tintOpacity: r.chance(0.25) ? r.uniform(0.4, 0.8) : r.uniform(0, 0.1), size: r.uniform(0.9, 1.25) }
      : undefined,
    beard: r.chance(0.2) ? { color: mix(hairColor, [20, 15, 10], 0.2), opacity: r.uniform(0.55, 0.95), mustacheOnly: r.chance(0.4) } : undefined,
    mole: r.chance(0.3) ? { x: r.uniform(-0.5, 0.5), y: r.uniform(-0.3, 0.7), size: r.uniform(0.012, 0.025) } : undefined,
  };
}

/**
 * How photo `image` of `identity` differs from the canonical face. Every spread is multiplied by
 * `difficulty` (0: all photos of a person identical up to background, shirt and a little noise;
 * 1: strong pose, lighting, expression, occlusion, blur and noise).
 */
export function sampleVariation(seed: number, identity: number, image: number, difficulty: number): FaceVariation {
  const r = new Random(hashSeed(seed, 2, identity, image));
  const d = Math.max(0, Math.min(1, difficulty));
  const azimuth = r.uniform(0, 2 * Math.PI);
  const obliquity = r.uniform(0, 1.1) * d; // angle between the light and the camera axis
  const backgroundBase: Rgb = [r.uniform(40, 215), r.uniform(40, 215), r.uniform(40, 215)];
  const grey = (backgroundBase[0] + backgroundBase[1] + backgroundBase[2]) / 3;
  const top = mix([grey, grey, grey], backgroundBase, 0.5); // half-saturated, so backgrounds stay plausible
  return {
    yaw: r.clippedNormal(0.35 * d, 0.65),
    roll: r.clippedNormal(0.18 * d, 0.4),
    pitch: r.clippedNormal(0.12 * d, 0.3),
    shiftX: r.clippedNormal(0.05 * d, 0.12),
    shiftY: r.clippedNormal(0.05 * d, 0.12),
    scale: Math.exp(r.clippedNormal(0.07 * d, 0.18)),
    smile: r.uniform(-0.3, 1) * d,
    mouthOpen: Math.max(0, r.uniform(-1, 1)) * d,
    eyeOpen: 1 - (r.chance(0.1 * d) ? r.uniform(0.6, 1) : r.uniform(0, 0.3) * d),
    browRaise: r.clippedNormal(0.025 * d, 0.05),
    light: [Math.sin(obliquity) * Math.cos(azimuth), Math.sin(obliquity) * Math.sin(azimuth), Math.cos(obliquity)],
    lightIntensity: Math.exp(r.clippedNormal(0.22 * d, 0.5)),
    ambient: r.uniform(0.3, 0.45),
    tint: [Math.exp(r.clippedNormal(0.05 * d, 0.12)), 1, Math.exp(r.clippedNormal(0.05 * d, 0.12))],
    background: { top, bottom: jitter(top, r, 40) },
    shirt: [r.uniform(20, 230), r.uniform(20, 230), r.uniform(20, 230)],
    occluder: r.chance(0.35 * d)
      ? { kind: r.pick(['bar', 'blob', 'scarf'] as const), x: r.uniform(-0.5, 0.5), y: r.uniform(-0.3, 0.7), size: r.uniform(0.15, 0.35), angle: r.uniform(-0.6, 0.6), color: [r.uniform(20, 230), r.uniform(20, 230), r.uniform(20, 230)] }
      : undefined,
    blur: r.uniform(0, 0.022) * d,
    noise: 1.5 + r.uniform(0, 10) * d,
    noiseSeed: hashSeed(seed, 3, identity, image),
  };
}
