// Draws one synthetic face photo: an identity (FaceIdentity) seen under one variation (FaceVariation).
// Painter's order: background, shoulders, hair behind the head, ears, head, features (clipped to the
// head), hair in front, glasses, occluder; then lighting, blur and sensor noise.
import type { FaceIdentity, FaceVariation } from './face-params.ts';
import type { RgbImage } from './image.ts';
import { Random } from './seed.ts';
import {
  bezier, canvas, coverageMap, ellipse, ellipseDistance, ellipseRing, gaussianBlur, intersect, paint, polygon,
  roundedRect, stroke, subtract, union, type Affine, type Canvas, type Rgb, type Shape,
} from './raster.ts';

const darker = (c: Rgb, f: number): Rgb => [c[0] * f, c[1] * f, c[2] * f];
const mix = (a: Rgb, b: Rgb, t: number): Rgb => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];

/** Renders `width` x `height` RGB pixels (the face is laid out for a square image). */
export function renderFace(id: FaceIdentity, v: FaceVariation, width: number, height = width): RgbImage {
  const target = canvas(width, height);
  const pose = new Pose(v, width, height);
  const { head } = id;

  paintBackground(target, v);
  paint(target, ellipse(0, head.cy + head.ry + 0.75, 1.5, 0.75), pose.flat(), v.shirt); // shoulders
  paint(target, roundedRect(0, head.cy + head.ry * 0.75, head.rx * 0.55, head.ry * 0.5, 0.1), pose.flat(), darker(id.skin, 0.8)); // neck

  if (id.hair.style === 'long' || id.hair.style === 'curly') paintBackHair(target, id, pose);
  for (const side of [-1, 1]) {
    const ear = ellipse(side * head.rx * 1.0, id.ears.y, id.ears.size * 0.6, id.ears.size);
    paint(target, ear, pose.at(-0.15), darker(id.skin, 0.92)); // behind the face plane: shifts against a turn
  }
  const headShape = jawedHead(head.rx, head.ry, head.cy, head.jaw);
  paint(target, headShape, pose.flat(), id.skin);
  const faceMask = coverageMap(width, height, headShape, pose.flat());

  paintFeatures(target, id, v, pose, faceMask);
  paintFrontHair(target, id, pose);
  if (id.glasses) paintGlasses(target, id, pose, faceMask);
  if (v.occluder) paintOccluder(target, v.occluder, pose);

  applyLighting(target, id, v, pose, faceMask);
  gaussianBlur(target, v.blur * pose.pixelsPerUnit);
  return toBytes(target, v.noise, v.noiseSeed);
}

/** Face units -> pixels for this photo's pose; features at depth z shift sideways when the head turns. */
class Pose {
  readonly pixelsPerUnit: number;
  private readonly cos: number;
  private readonly sin: number;

  constructor(
    private readonly v: FaceVariation,
    private readonly width: number,
    private readonly height: number,
  ) {
    this.cos = Math.cos(v.roll) * v.scale;
    this.sin = Math.sin(v.roll) * v.scale;
    this.pixelsPerUnit = (v.scale * Math.min(width, height)) / 2;
  }

  /** Map for a feature on the face surface at depth z (towards the camera): compressed and shifted by yaw and pitch. */
  at(z: number): Affine {
    return this.map(Math.cos(this.v.yaw), Math.cos(this.v.pitch), z * Math.sin(this.v.yaw), z * Math.sin(this.v.pitch));
  }

  /** Map for outlines that do not turn with the head (the head's silhouette, neck, hair mass). */
  flat(): Affine {
    return this.map(1, 1, 0, 0);
  }

  // pixel = K * (s R(roll) * (diag(sx, sy) p + (ox, oy)) + shift) + centre, K = half the image size.
  private map(sx: number, sy: number, ox: number, oy: number): Affine {
    const kx = this.width / 2, ky = this.height / 2;
    const { cos, sin, v } = this;
    return {
      a: kx * cos * sx,
      b: -kx * sin * sy,
      c: ky * sin * sx,
      d: ky * cos * sy,
      tx: kx * (cos * ox - sin * oy + v.shiftX + 1),
      ty: ky * (sin * ox + cos * oy + v.shiftY + 1),
    };
  }
}

/** Ellipse whose lower half narrows towards the chin (jaw = width left at the chin line, 0..1). */
function jawedHead(rx: number, ry: number, cy: number, jaw: number): Shape {
  return {
    bounds: [-rx, cy - ry, rx, cy + ry],
    sd: (x, y) => {
      const below = Math.max(0, (y - cy) / ry);
      return ellipseDistance(x, y - cy, rx * (1 - (1 - jaw) * 0.45 * below * below), ry);
    },
  };
}

function paintBackground(target: Canvas, v: FaceVariation): void {
  const { top, bottom } = v.background;
  for (let y = 0; y < target.height; y++) {
    const [r, g, b] = mix(top, bottom, y / Math.max(1, target.height - 1));
    for (let p = 3 * y * target.width, end = p + 3 * target.width; p < end; p += 3) {
      target.rgb[p] = r;
      target.rgb[p + 1] = g;
      target.rgb[p + 2] = b;
    }
  }
}

function paintBackHair(target: Canvas, id: FaceIdentity, pose: Pose): void {
  const { head, hair } = id;
  const grow = hair.style === 'curly' ? 1.25 : hair.volume;
  const mass = union(ellipse(0, head.cy - 0.05, head.rx * grow + 0.05, head.ry * grow), roundedRect(0, head.cy + 0.35, head.rx + 0.12, 0.55, 0.15));
  paint(target, mass, pose.flat(), darker(hair.color, 0.8));
}

function paintFrontHair(target: Canvas, id: FaceIdentity, pose: Pose): void {
  const { head, hair } = id;
  if (hair.style === 'bald') return;
  const fringe = hair.style === 'fringe';
  const curly = hair.style === 'curly';
  const hairline = fringe ? hair.hairline + 0.22 : hair.hairline;
  const wave = curly ? 0.06 : hair.wave;
  // Hair covers what lies above the hairline y = h(x); its signed distance is (y - h(x)), roughly.
  const above: Shape = {
    bounds: [-2, -2, 2, 2],
    sd: (x, y) => y - (hairline + 0.35 * x * x + hair.part * 0.1 * x + wave * Math.sin(x * (curly ? 30 : 14) + hair.part * 10)),
  };
  const grow = curly ? 1.2 : hair.volume;
  const cap = intersect(ellipse(0, head.cy - 0.02, head.rx * grow, head.ry * grow), above);
  paint(target, cap, pose.flat(), hair.color, { opacity: hair.style === 'buzz' ? 0.6 : 1 });
}

function paintFeatures(target: Canvas, id: FaceIdentity, v: FaceVariation, pose: Pose, mask: Float32Array): void {
  const { eyes, brows, nose, mouth, head } = id;
  const surface = head.rx * 0.9; // depth of the face plane in front of the head's centre
  const onFace = { mask };

  if (id.mole) paint(target, ellipse(id.mole.x, id.mole.y, id.mole.size, id.mole.size), pose.at(surface), darker(id.skin, 0.45), onFace);

  // Nose: a shaded bridge on the side away from the light, a rounded tip, two nostrils.
  const tipY = eyes.y + nose.length;
  const shadowSide = v.light[0] >= 0 ? -1 : 1;
  paint(target, stroke([shadowSide * nose.bridge, eyes.y + 0.05, shadowSide * nose.width * 0.6, tipY - 0.02], [0.01, 0.025]), pose.at(surface * 1.1), darker(id.skin, 0.7), { mask, feather: 3, opacity: 0.9 });
  paint(target, ellipse(0, tipY - 0.01, nose.width * 0.7, nose.width * 0.45), pose.at(surface * 1.2), darker(id.skin, 0.93), { mask, feather: 2 });
  for (const side of [-1, 1]) {
    paint(target, ellipse(side * nose.width * 0.45, tipY + 0.01, nose.width * 0.22, nose.width * 0.12), pose.at(surface * 1.1), darker(id.skin, 0.45), onFace);
  }

  for (const side of [-1, 1]) {
    const map = pose.at(surface * 0.85);
    const cx = side * eyes.spacing;
    const tilt = side * eyes.tilt * eyes.width; // outer corner up when tilt > 0
    const openHeight = Math.max(0.004, eyes.height * v.eyeOpen);
    const eyeball = ellipse(cx, eyes.y, eyes.width, openHeight);
    const tilted = shear(eyeball, cx, tilt / eyes.width);
    paint(target, tilted, map, [235, 232, 225], onFace);
    const irisR = eyes.height * eyes.irisSize * 1.6;
    paint(target, intersect(ellipse(cx, eyes.y, irisR, irisR), tilted), map, eyes.iris, onFace);
    paint(target, intersect(ellipse(cx, eyes.y, irisR * 0.45, irisR * 0.45), tilted), map, [15, 12, 10], onFace);
    const lid = bezier(cx - eyes.width, eyes.y - tilt, cx, eyes.y - openHeight * 1.25, cx + eyes.width, eyes.y + tilt);
    paint(target, stroke(lid, 0.009), map, darker(id.skin, 0.35), onFace);

    const browY = eyes.y - brows.gap - v.browRaise;
    const inner = cx - side * brows.length * 0.45, outer = cx + side * brows.length * 0.55;
    const browCurve = bezier(inner, browY - brows.tilt * 0.1, (inner + outer) / 2, browY - brows.arch, outer, browY + brows.tilt * 0.1 + 0.01);
    const widths = browCurve.filter((_, i) => i % 2 === 0).map((_, i, all) => brows.thickness * (1.1 - (0.6 * i) / (all.length - 1)));
    paint(target, stroke(browCurve, widths), map, brows.color, onFace);
  }

  // Mouth: lips bend up at the corners with the smile; an open mouth shows a dark gap.
  const mouthMap = pose.at(surface * 0.95);
  const hw = mouth.halfWidth * (1 + 0.15 * v.smile);
  const cornerY = mouth.y - 0.05 * v.smile;
  const gap = 0.07 * v.mouthOpen;
  if (gap > 0.004) paint(target, ellipse(0, mouth.y + gap / 2, hw * 0.8, gap), mouthMap, [60, 20, 25], onFace);
  const upper = bezier(-hw, cornerY, 0, mouth.y - 0.01 + 0.03 * v.smile, hw, cornerY);
  const lower = bezier(-hw, cornerY, 0, mouth.y + gap + 0.02 + 0.03 * v.smile, hw, cornerY);
  paint(target, stroke(upper, taper(upper, mouth.upperLip)), mouthMap, mouth.color, onFace);
  paint(target, stroke(lower.map((value, i) => (i % 2 ? value + mouth.lowerLip * 0.6 : value)), taper(lower, mouth.lowerLip)), mouthMap, mouth.color, onFace);

  if (id.beard) {
    const mustache = stroke(bezier(-hw * 1.05, cornerY + 0.02, 0, mouth.y - 0.09, hw * 1.05, cornerY + 0.02), 0.03);
    const full = subtract(intersect(jawedHead(head.rx * 0.98, head.ry * 0.98, head.cy, head.jaw), { bounds: [-2, -2, 2, 2], sd: (_, y) => mouth.y - 0.12 - y }), ellipse(0, mouth.y + gap / 2, hw * 1.05, 0.04 + gap));
    paint(target, id.beard.mustacheOnly ? mustache : union(full, mustache), mouthMap, id.beard.color, { mask, opacity: id.beard.opacity, feather: 1.5 });
  }
}

/** Half widths along a stroke: full in the middle, thin at both ends (lips). */
function taper(points: number[], half: number): number[] {
  const n = points.length / 2;
  return Array.from({ length: n }, (_, i) => half * (0.25 + 0.75 * Math.sin((Math.PI * i) / (n - 1))));
}

/** Shears a shape vertically around x = cx: y += k * (x - cx) (slanted eyes). */
function shear(shape: Shape, cx: number, k: number): Shape {
  const [x0, y0, x1, y1] = shape.bounds;
  const lift = Math.abs(k) * Math.max(Math.abs(x0 - cx), Math.abs(x1 - cx));
  return { bounds: [x0, y0 - lift, x1, y1 + lift], sd: (x, y) => shape.sd(x, y + k * (x - cx)) };
}

function paintGlasses(target: Canvas, id: FaceIdentity, pose: Pose, faceMask: Float32Array): void {
  const g = id.glasses!;
  const { eyes, head } = id;
  const map = pose.at(head.rx * 0.95);
  const rx = eyes.width * 1.35 * g.size, ry = eyes.width * 1.05 * g.size;
  const pen = 0.018;
  for (const side of [-1, 1]) {
    const cx = side * eyes.spacing;
    const lens = g.shape === 'round' ? ellipse(cx, eyes.y, rx, ry) : roundedRect(cx, eyes.y, rx, ry * 0.85, 0.04);
    if (g.tintOpacity > 0.02) paint(target, lens, map, g.tint, { opacity: g.tintOpacity });
    const rim = g.shape === 'round' ? ellipseRing(cx, eyes.y, rx, ry, pen) : { bounds: lens.bounds.map((b, i) => b + (i < 2 ? -pen : pen)) as unknown as Shape['bounds'], sd: (x: number, y: number) => Math.abs(lens.sd(x, y)) - pen / 2 };
    paint(target, rim, map, g.frame);
    paint(target, stroke([cx + side * rx, eyes.y - ry * 0.3, side * head.rx * 0.98, id.ears.y - 0.05], pen * 0.6), map, g.frame, { mask: faceMask }); // temple, hidden where it leaves the head
  }
  paint(target, stroke(bezier(-eyes.spacing + rx, eyes.y - ry * 0.2, 0, eyes.y - ry * 0.5, eyes.spacing - rx, eyes.y - ry * 0.2), pen * 0.6), map, g.frame); // bridge
}

function paintOccluder(target: Canvas, o: NonNullable<FaceVariation['occluder']>, pose: Pose): void {
  const c = Math.cos(o.angle), s = Math.sin(o.angle);
  const base = pose.flat();
  // Rotate the occluder about its own centre before the pose map.
  const map: Affine = {
    a: base.a * c + base.b * s, b: -base.a * s + base.b * c,
    c: base.c * c + base.d * s, d: -base.c * s + base.d * c,
    tx: base.a * o.x + base.b * o.y + base.tx, ty: base.c * o.x + base.d * o.y + base.ty,
  };
  if (o.kind === 'bar') paint(target, roundedRect(0, 0, o.size * 2.2, o.size * 0.45, 0.03), map, o.color);
  else if (o.kind === 'blob') paint(target, ellipse(0, 0, o.size, o.size * 1.3), map, o.color);
  else paint(target, polygon([-1.5, 0.55 - o.size, 1.5, 0.55 - o.size + 0.2 * s, 1.5, 2, -1.5, 2]), pose.flat(), o.color); // scarf over the lower face
}

/**
 * Lambert shading with the head as an ellipsoid: inside the head the normal is that of the ellipsoid
 * at the pixel; elsewhere the surface faces the camera. Wrapped diffuse ((n.l + w)/(1 + w)) keeps the
 * dark side from going black. Then the per-channel white balance and the overall intensity.
 */
function applyLighting(target: Canvas, id: FaceIdentity, v: FaceVariation, pose: Pose, faceMask: Float32Array): void {
  const { width, height, rgb } = target;
  const m = pose.flat();
  const det = m.a * m.d - m.b * m.c;
  const [lx, ly, lz] = v.light;
  const wrap = 0.35;
  const flatShade = v.ambient + (1 - v.ambient) * Math.max(0, (lz + wrap) / (1 + wrap));
  // A sphere a little larger than the head, so hair on top is shaded with it and the shading fades
  // smoothly into the flat background instead of ending at the head's outline.
  const rx = id.head.rx * 1.25, ry = id.head.ry * 1.2;
  const cosR = Math.cos(v.roll), sinR = Math.sin(v.roll);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const px = x + 0.5 - m.tx, py = y + 0.5 - m.ty;
      const u = (m.d * px - m.b * py) / det / rx, w = ((-m.c * px + m.a * py) / det - id.head.cy) / ry; // head-local, unit sphere
      const r2 = Math.min(1, u * u + w * w);
      const nx = cosR * u - sinR * w, ny = sinR * u + cosR * w, nz = Math.sqrt(1 - r2); // back to image axes
      const headShade = v.ambient + (1 - v.ambient) * Math.max(0, (nx * lx + ny * ly + nz * lz + wrap) / (1 + wrap));
      const inHead = Math.max(faceMask[i]!, Math.min(1, 3 * (1 - r2)));
      const shade = (headShade * inHead + flatShade * (1 - inHead)) * v.lightIntensity * 1.15;
      rgb[3 * i] *= shade * v.tint[0];
      rgb[3 * i + 1] *= shade * v.tint[1];
      rgb[3 * i + 2] *= shade * v.tint[2];
    }
  }
}

/** 64 Ki standard normal samples, drawn once: per-pixel noise indexes this table with a cheap
 * xorshift stream instead of running Box-Muller 37 632 times per 112x112 image. */
const NORMAL_TABLE = (() => {
  const random = new Random(0x5eed);
  return Float32Array.from({ length: 65536 }, () => random.normal());
})();

function toBytes(target: Canvas, noise: number, noiseSeed: number): RgbImage {
  let state = noiseSeed | 1; // xorshift32 must not start at 0
  const data = new Uint8Array(target.rgb.length); // [H, W, 3]
  for (let i = 0; i < data.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    data[i] = Math.min(255, Math.max(0, Math.round(target.rgb[i]! + noise * NORMAL_TABLE[state & 0xffff]!)));
  }
  return { width: target.width, height: target.height, data };
}
