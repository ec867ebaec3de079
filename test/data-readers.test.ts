// The readers: IDX, MXNet RecordIO / insightface train.rec, insightface verification .bin (pickle),
// image folders and our cache, on small files written here (or by test/fixtures/data/make_data_fixtures.py),
// including truncated and corrupt ones.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { CacheDataset, writeCache } from '../src/data/cache.ts';
import { CorruptImageError, DataFormatError } from '../src/data/errors.ts';
import { ImageFolderDataset } from '../src/data/folder.ts';
import { encodeIdxUint8, IdxDataset, parseIdx, readIdx } from '../src/data/idx.ts';
import { decodeImage, encodeJpeg, encodePng, resizeRgb, rgbImage, type RgbImage } from '../src/data/image.ts';
import { InsightfaceRecDataset, writeInsightfaceRec } from '../src/data/insightface-rec.ts';
import { unpickle } from '../src/data/pickle.ts';
import { concat, encodeRecord, encodeRecordIndex, packIRHeader, readRecordIndex, RecordIOFile, RECORDIO_MAGIC, unpackIRHeader } from '../src/data/recordio.ts';
import { SyntheticFaces, syntheticFace } from '../src/data/synthetic.ts';
import { readVerificationBin, VerificationBinDataset } from '../src/data/verification-bin.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'data');
const dir = mkdtempSync(join(tmpdir(), 'lowbit-data-readers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const meanAbsDiff = (a: Uint8Array, b: Uint8Array): number => a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length;

/** Runs fn, expects a DataFormatError, returns it for more checks. */
function formatError(fn: () => unknown): DataFormatError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DataFormatError);
    return e as DataFormatError;
  }
  return expect.fail('expected a DataFormatError');
}

describe('IDX', () => {
  // 5 grey 3x4 images whose pixel values encode (image, position); labels 0..2.
  const pixels = Uint8Array.from({ length: 5 * 3 * 4 }, (_, i) => (i * 7) % 256);
  const labels = Uint8Array.of(2, 0, 1, 2, 0);
  const imagesPath = join(dir, 'images-idx3-ubyte');
  const labelsPath = join(dir, 'labels-idx1-ubyte.gz');
  writeFileSync(imagesPath, encodeIdxUint8([5, 3, 4], pixels));
  writeFileSync(labelsPath, gzipSync(encodeIdxUint8([5], labels)));

  it('reads plain and gzip files', () => {
    const images = readIdx(imagesPath);
    expect(images.type).toBe('uint8');
    expect(images.dims).toEqual([5, 3, 4]);
    expect([...images.data]).toEqual([...pixels]);
    expect([...readIdx(labelsPath).data]).toEqual([2, 0, 1, 2, 0]);
  });

  it('decodes big-endian element types', () => {
    const bytes = Uint8Array.of(0, 0, 0x0d, 1, 0, 0, 0, 2, 0x3f, 0x80, 0, 0, 0xc0, 0x20, 0, 0); // float32 [1, -2.5]
    expect([...parseIdx(bytes, 'f.idx').data]).toEqual([1, -2.5]);
  });

  it('serves grey images as RGB with their labels, optionally keeping only some classes', () => {
    const all = new IdxDataset({ images: imagesPath, labels: labelsPath });
    expect(all.length).toBe(5);
    expect(all.numClasses).toBe(3);
    const img = all.image(1);
    expect([img.width, img.height]).toEqual([4, 3]);
    expect([...img.data.subarray(0, 6)]).toEqual([pixels[12], pixels[12], pixels[12], pixels[13], pixels[13], pixels[13]]);
    const open = new IdxDataset({ images: imagesPath, labels: labelsPath, classes: [2, 1] });
    expect(open.length).toBe(3); // source rows 0, 2, 3
    expect(open.numClasses).toBe(2);
    expect([open.label(0), open.label(1), open.label(2)]).toEqual([0, 1, 0]);
    expect(open.image(2).data[0]).toBe(pixels[3 * 12]);
  });

  it('names the file and byte offset of a truncated or malformed file', () => {
    const whole = encodeIdxUint8([5, 3, 4], pixels);
    const cut = formatError(() => parseIdx(whole.subarray(0, 30), 'cut.idx'));
    expect(cut.message).toMatch(/^cut\.idx: at byte 30: truncated: dims \[5, 3, 4\] of uint8 need 76 bytes/);
    const gz = gzipSync(whole);
    const cutGz = formatError(() => parseIdx(gz.subarray(0, gz.length - 30), 'cut.idx.gz'));
    expect(cutGz.file).toBe('cut.idx.gz');
    expect(cutGz.message).toMatch(/truncated: .* of the gunzipped data/);
    expect(formatError(() => parseIdx(Uint8Array.of(1, 0, 8, 1, 0, 0, 0, 0), 'm.idx')).message).toMatch(/m\.idx: at byte 0: not an IDX file/);
    expect(formatError(() => parseIdx(Uint8Array.of(0, 0, 7, 1, 0, 0, 0, 0), 't.idx')).message).toMatch(/t\.idx: at byte 2: unknown IDX element type 0x07/);
    expect(formatError(() => parseIdx(Uint8Array.of(0, 0, 8, 3, 0, 0), 'h.idx')).offset).toBe(6);
    const truncatedFile = join(dir, 'truncated-idx3-ubyte');
    writeFileSync(truncatedFile, whole.subarray(0, 50));
    expect(() => new IdxDataset({ images: truncatedFile, labels: labelsPath })).toThrow(/truncated-idx3-ubyte: at byte 50: truncated/);
    const wrongCount = join(dir, 'labels4');
    writeFileSync(wrongCount, encodeIdxUint8([4], labels.subarray(0, 4)));
    expect(() => new IdxDataset({ images: imagesPath, labels: wrongCount })).toThrow(/labels4: at byte 2: expected uint8 labels \[5\]/);
  });
});

describe('RecordIO', () => {
  const magicBytes = new Uint8Array(new Uint32Array([RECORDIO_MAGIC]).buffer);

  it('frames a record as magic, length word, payload, zero padding to 4 bytes', () => {
    const bytes = encodeRecord(Uint8Array.of(1, 2, 3, 4, 5));
    expect([...bytes]).toEqual([0x0a, 0x23, 0xd7, 0xce, 5, 0, 0, 0, 1, 2, 3, 4, 5, 0, 0, 0]);
  });

  it('splits a payload at 4-aligned magic numbers and joins the parts back', () => {
    const payload = concat([Uint8Array.of(9, 9, 9, 9), magicBytes, Uint8Array.of(7, 7), magicBytes, Uint8Array.of(1, 2, 3), magicBytes]);
    const bytes = encodeRecord(payload);
    const view = new DataView(bytes.buffer);
    expect(view.getUint32(4, true) >>> 29).toBe(1); // first part
    const path = join(dir, 'multi.rec');
    writeFileSync(path, concat([bytes, encodeRecord(Uint8Array.of(42))]));
    const rec = new RecordIOFile(path);
    const first = rec.readAt(0);
    expect([...first.payload]).toEqual([...payload]);
    expect([...rec.readAt(first.next).payload]).toEqual([42]);
    expect(rec.scanOffsets()).toEqual([0, first.next]);
    rec.close();
    // A magic at an unaligned position (byte 2) is not a split point: one record, 7 bytes + 1 of padding.
    const unaligned = concat([Uint8Array.of(1, 2), magicBytes, Uint8Array.of(3)]);
    expect(encodeRecord(unaligned).length).toBe(8 + 8);
  });

  it('packs and unpacks IRHeaders with one label or several', () => {
    const one = unpackIRHeader(packIRHeader(17, Uint8Array.of(0xff, 0xd8), 5n), 'x.rec', 0);
    expect(one.header.flag).toBe(0);
    expect([...one.header.labels]).toEqual([17]);
    expect(one.header.id).toBe(5n);
    expect([...one.body]).toEqual([0xff, 0xd8]);
    const two = unpackIRHeader(packIRHeader([3, 8], Uint8Array.of(1)), 'x.rec', 0);
    expect(two.header.flag).toBe(2);
    expect([...two.header.labels]).toEqual([3, 8]);
    expect([...two.body]).toEqual([1]);
    expect(() => unpackIRHeader(new Uint8Array(10), 'x.rec', 64)).toThrow(/x\.rec: at byte 64: .* shorter than the 24-byte IRHeader/);
  });

  it('names the file and offset of a bad magic, a bad .idx line and a truncated record', () => {
    const path = join(dir, 'bad.rec');
    const good = encodeRecord(new Uint8Array(40));
    writeFileSync(path, concat([good, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)]));
    const rec = new RecordIOFile(path);
    expect(formatError(() => rec.readAt(good.length)).message).toBe(`${path}: at byte 48: expected RecordIO magic 0xced7230a, found 0x04030201`);
    rec.close();
    writeFileSync(path, good.subarray(0, 30));
    const cut = new RecordIOFile(path);
    expect(formatError(() => cut.readAt(0)).message).toMatch(/bad\.rec: at byte 0: truncated: record of 40 bytes needs bytes 8\.\.48, the file ends at byte 30/);
    cut.close();
    const idx = join(dir, 'bad.idx');
    writeFileSync(idx, '0\t0\n1\t48\nbroken line\n');
    expect(formatError(() => readRecordIndex(idx)).message).toBe(`${idx}: at byte 9: expected "key<TAB>offset", found "broken line"`);
    writeFileSync(idx, '0\t0\n1\t4800\n');
    expect(formatError(() => readRecordIndex(idx, 100)).message).toMatch(/at byte 4: key 1 points at byte 4800, past the end/);
  });
});

describe('insightface train.rec', () => {
  const faces: { label: number; image: RgbImage }[] = [];
  for (let identity = 0; identity < 3; identity++) for (let k = 0; k < 2 + identity; k++) faces.push({ label: identity, image: syntheticFace(1, identity, k, 0.5, 20) });
  const recDir = join(dir, 'faces_rec');
  mkdirSync(recDir);
  writeInsightfaceRec(recDir, faces.map((f) => ({ label: f.label, encoded: encodeJpeg(f.image, 95) })));

  it('reads images and labels the way MXFaceDataset does (header record 0 gives the ranges)', () => {
    const ds = new InsightfaceRecDataset(recDir);
    expect(ds.length).toBe(9);
    expect(ds.numClasses).toBe(3);
    expect(Array.from({ length: 9 }, (_, i) => ds.label(i))).toEqual([0, 0, 1, 1, 1, 2, 2, 2, 2]);
    for (let i = 0; i < 9; i++) {
      const img = ds.image(i);
      expect([img.width, img.height]).toEqual([20, 20]);
      expect(meanAbsDiff(img.data, faces[i]!.image.data)).toBeLessThan(6); // JPEG at quality 95
    }
    // The identity records after the images hold each identity's image key range.
    const rec = new RecordIOFile(join(recDir, 'train.rec'));
    const index = readRecordIndex(join(recDir, 'train.idx'));
    expect([...unpackIRHeader(rec.readAt(index.get(0)!).payload, 'r', 0).header.labels]).toEqual([10, 13]);
    expect([...unpackIRHeader(rec.readAt(index.get(11)!).payload, 'r', 0).header.labels]).toEqual([3, 6]);
    rec.close();
    ds.close();
  });

  it('without a header record every key is an image; label arrays use their first entry', () => {
    const plain = join(dir, 'plain_rec');
    mkdirSync(plain);
    const records = [packIRHeader(1, encodeJpeg(faces[0]!.image)), packIRHeader([0, 99], encodeJpeg(faces[1]!.image))].map(encodeRecord);
    writeFileSync(join(plain, 'train.rec'), concat(records));
    writeFileSync(join(plain, 'train.idx'), encodeRecordIndex([[0, 0], [1, records[0]!.length]]));
    const ds = new InsightfaceRecDataset(plain);
    expect(ds.length).toBe(2);
    expect([ds.label(0), ds.label(1)]).toEqual([1, 0]);
    expect(ds.numClasses).toBe(2);
    ds.close();
  });

  it('reports an undecodable image as corrupt (skippable) and a cut .rec as a format error', () => {
    const broken = join(dir, 'broken_rec');
    mkdirSync(broken);
    writeInsightfaceRec(broken, [{ label: 0, encoded: encodeJpeg(faces[0]!.image) }, { label: 0, encoded: Uint8Array.of(0xff, 0xd8, 0xff, 0, 1, 2) }]);
    const ds = new InsightfaceRecDataset(broken);
    expect(ds.image(0).width).toBe(20);
    expect(() => ds.image(1)).toThrow(CorruptImageError);
    expect(() => ds.image(1)).toThrow(/train\.rec image 1 at byte \d+/);
    ds.close();
    const recPath = join(broken, 'train.rec');
    const size = readFileSync(recPath).length;
    const index = readRecordIndex(join(broken, 'train.idx'));
    expect(size).toBeGreaterThan(index.get(2)! + 20);
    truncateSync(recPath, index.get(2)! + 20); // cut inside the second image's record
    // Opening checks every .idx offset against the .rec's size, so the cut shows at once...
    expect(() => new InsightfaceRecDataset(broken)).toThrow(/train\.idx: at byte 16: key 3 points at byte \d+, past the end of the \.rec file/);
    // ...and reading the cut record itself names the .rec and the record's offset.
    const rec = new RecordIOFile(recPath);
    expect(() => rec.readAt(index.get(2)!)).toThrow(new RegExp(`train\\.rec: at byte ${index.get(2)}: truncated: record of \\d+ bytes`));
    rec.close();
  });
});

describe('verification .bin (pickle)', () => {
  const expected = JSON.parse(readFileSync(join(FIXTURES, 'verification_expected.json'), 'utf8')) as { images: { width: number; height: number; mean: number[] }[]; isSame: boolean[] };

  it.each([2, 4, 5])('reads a protocol-%i pickle written by Python', (protocol) => {
    const set = readVerificationBin(join(FIXTURES, `verification_p${protocol}.bin`));
    expect(set.isSame).toEqual([true, false, true]);
    expect(set.images.length).toBe(6);
    set.images.forEach((bytes, i) => {
      const img = decodeImage(bytes, `image ${i}`);
      expect([img.width, img.height]).toEqual([expected.images[i]!.width, expected.images[i]!.height]);
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let p = c; p < img.data.length; p += 3) sum += img.data[p]!;
        expect(Math.abs(sum / (img.width * img.height) - expected.images[i]!.mean[c]!)).toBeLessThan(2); // decoders differ by rounding only
      }
    });
  });

  it('reads a Python 2 pickle (str images as SHORT_BINSTRING, memo gets)', () => {
    // ([b'ab', b'cd', b'ab'], [True, False]) as Python 2's cPickle.dump(..., 2) writes it, the third image a BINGET.
    const py2 = Uint8Array.of(0x80, 2, 0x5d, 0x71, 0, 0x28, 0x55, 2, 0x61, 0x62, 0x71, 1, 0x55, 2, 0x63, 0x64, 0x71, 2, 0x68, 1, 0x65,
      0x5d, 0x71, 3, 0x28, 0x88, 0x89, 0x65, 0x86, 0x71, 4, 0x2e);
    const value = unpickle(py2, 'py2.bin') as [Uint8Array[], boolean[]];
    expect(value[0].map((b) => String.fromCharCode(...b))).toEqual(['ab', 'cd', 'ab']);
    expect(value[1]).toEqual([true, false]);
  });

  it('serves the pairs as a dataset: label = pair number', () => {
    const ds = new VerificationBinDataset(join(FIXTURES, 'verification_p4.bin'));
    expect([ds.length, ds.numClasses, ds.label(0), ds.label(1), ds.label(5)]).toEqual([6, 3, 0, 0, 2]);
    expect(ds.image(3).width).toBe(12);
  });

  it('refuses what it does not understand, naming the file and offset', () => {
    const numpyFile = join(FIXTURES, 'verification_numpy.bin');
    const e = formatError(() => readVerificationBin(numpyFile));
    expect(e.file).toBe(numpyFile);
    expect(e.message).toMatch(/at byte \d+: unsupported global numpy\./);
    const whole = readFileSync(join(FIXTURES, 'verification_p4.bin'));
    const cut = formatError(() => unpickle(whole.subarray(0, 1000), 'cut.bin'));
    expect(cut.message).toMatch(/^cut\.bin: at byte \d+: truncated: /);
    expect(formatError(() => unpickle(Uint8Array.of(0x80, 2, 0x7d, 0x2e), 'dict.bin')).message).toBe("dict.bin: at byte 2: unsupported pickle opcode 0x7d (EMPTY_DICT): this reader handles the tuples, lists, bytes and bools of insightface .bin files");
    const wrongShape = join(dir, 'odd.bin');
    writeFileSync(wrongShape, Uint8Array.of(0x80, 2, 0x5d, 0x43, 1, 0x41, 0x61, 0x5d, 0x88, 0x61, 0x86, 0x2e)); // ([b'A'], [True])
    expect(() => readVerificationBin(wrongShape)).toThrow(/odd\.bin: at byte 12: 1 images for 1 pairs/);
  });
});

describe('image folder', () => {
  const root = join(dir, 'folder');
  const small = syntheticFace(4, 0, 0, 0.5, 24);
  const wide = rgbImage(40, 20);
  wide.data.fill(200);
  for (const [name, files] of Object.entries({ bob: ['b1.png', 'b2.PNG'], alice: ['a1.jpg', 'a2.jpeg'], carol: [] as string[] })) {
    mkdirSync(join(root, name), { recursive: true });
    for (const file of files) writeFileSync(join(root, name, file), file.startsWith('b2') ? encodePng(wide) : file.endsWith('png') ? encodePng(small) : encodeJpeg(small));
  }
  writeFileSync(join(root, 'alice', 'a3.jpg'), Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0, 0)); // corrupt
  writeFileSync(join(root, 'alice', 'notes.txt'), 'not an image');
  writeFileSync(join(root, 'README'), 'ignored');

  it('labels sub-folders in sorted order and decodes PNG and JPEG', () => {
    const ds = new ImageFolderDataset(root);
    expect(ds.classNames).toEqual(['alice', 'bob', 'carol']);
    expect(ds.numClasses).toBe(3);
    expect(ds.length).toBe(5);
    expect([0, 1, 2, 3, 4].map((i) => ds.label(i))).toEqual([0, 0, 0, 1, 1]);
    expect(ds.path(3)).toBe(join(root, 'bob', 'b1.png'));
    expect(Buffer.from(ds.image(3).data).equals(Buffer.from(small.data))).toBe(true); // PNG is lossless
    expect(meanAbsDiff(ds.image(0).data, small.data)).toBeLessThan(8);
    expect([ds.image(4).width, ds.image(4).height]).toEqual([40, 20]);
    expect(() => ds.image(2)).toThrow(CorruptImageError);
    expect(() => ds.image(2)).toThrow(join(root, 'alice', 'a3.jpg'));
  });

  it('resizes with anti-aliasing: flat stays flat, a checkerboard shrinks to its mean', () => {
    const flat = resizeRgb(new ImageFolderDataset(root).image(4), 16, 16);
    expect(flat.data.every((v) => v === 200)).toBe(true);
    const checker = rgbImage(8, 8);
    checker.data.forEach((_, i) => (checker.data[i] = (Math.floor(i / 3) + Math.floor(i / 24)) % 2 ? 255 : 0));
    const grey = resizeRgb(checker, 2, 2);
    for (const v of grey.data) expect(Math.abs(v - 127.5)).toBeLessThan(20);
    const up = resizeRgb(small, 48, 48);
    expect([up.width, up.height]).toEqual([48, 48]);
  });
});

describe('cache', () => {
  it('round-trips a dataset exactly and documents its source in the metadata', () => {
    const source = new SyntheticFaces({ identities: 4, heldOutIdentities: 1, imagesPerIdentity: 2, size: 16 });
    const path = join(dir, 'faces.lbc');
    expect(writeCache(path, source, 16)).toEqual({ written: 6, corrupt: 0 });
    const cache = new CacheDataset(path);
    expect([cache.length, cache.numClasses, cache.layout.height, cache.layout.width]).toEqual([6, 3, 16, 16]);
    expect((cache.layout.meta.source as string).startsWith('synthetic(')).toBe(true);
    for (let i = 0; i < 6; i++) {
      expect(cache.label(i)).toBe(source.label(i));
      expect(Buffer.from(cache.image(i).data).equals(Buffer.from(source.image(i).data))).toBe(true);
    }
    expect(readFileSync(path).length).toBe(cache.layout.totalBytes);
    cache.close();
  });

  it('skips corrupt images when writing; refuses a truncated or foreign file', () => {
    const path = join(dir, 'folder.lbc');
    expect(writeCache(path, new ImageFolderDataset(join(dir, 'folder')), 8)).toEqual({ written: 4, corrupt: 1 });
    const full = readFileSync(path).length;
    truncateSync(path, full - 5);
    expect(formatError(() => new CacheDataset(path)).message).toMatch(new RegExp(`folder\\.lbc: at byte ${full - 5}: truncated: header says 4 images of 8x8x3 \\(${full} bytes\\)`));
    writeFileSync(path, 'not a cache file, just text that is long enough');
    expect(formatError(() => new CacheDataset(path)).message).toMatch(/at byte 0: not a lowbit cache: magic "not a ca"/);
  });
});
