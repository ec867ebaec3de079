// A contact sheet of synthetic faces to look at: one row per identity, one column per photo.
//   npx tsx src/data/preview.ts out.png [--identities 8] [--images 8] [--size 112] [--difficulty 0.5] [--seed 0] [--first 0]
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { encodePng, rgbImage, type RgbImage } from './image.ts';
import { syntheticFace } from './synthetic.ts';

/** Tiles `rows` identities x `columns` photos into one image with a 2-pixel white grid. */
export function contactSheet(seed: number, firstIdentity: number, rows: number, columns: number, size: number, difficulty: number): RgbImage {
  const gap = 2;
  const sheet = rgbImage(columns * (size + gap) + gap, rows * (size + gap) + gap);
  sheet.data.fill(255);
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) {
      const face = syntheticFace(seed, firstIdentity + row, column, difficulty, size);
      for (let y = 0; y < size; y++) {
        const to = ((gap + row * (size + gap) + y) * sheet.width + gap + column * (size + gap)) * 3;
        sheet.data.set(face.data.subarray(y * size * 3, (y + 1) * size * 3), to);
      }
    }
  }
  return sheet;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      identities: { type: 'string', default: '8' },
      images: { type: 'string', default: '8' },
      size: { type: 'string', default: '112' },
      difficulty: { type: 'string', default: '0.5' },
      seed: { type: 'string', default: '0' },
      first: { type: 'string', default: '0' },
    },
  });
  const out = positionals[0] ?? 'synthetic-faces.png';
  const sheet = contactSheet(Number(values.seed), Number(values.first), Number(values.identities), Number(values.images), Number(values.size), Number(values.difficulty));
  writeFileSync(out, encodePng(sheet));
  console.log(`wrote ${out} (${values.identities} identities x ${values.images} images, ${values.size}px, difficulty ${values.difficulty}, seed ${values.seed})`);
}
