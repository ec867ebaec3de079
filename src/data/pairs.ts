// Verification pairs for open-set evaluation on datasets that have labels but no pair list (the
// synthetic held-out identities, Fashion-MNIST's unseen classes): half same-class pairs, half not.
import { Random } from './seed.ts';

export interface Pairs {
  /** [P] dataset index of each pair's first and second image. */
  first: Uint32Array;
  second: Uint32Array;
  /** [P] true where both images have the same label. */
  isSame: boolean[];
}

/** `count` pairs, alternating same / different, drawn reproducibly from `seed`. */
export function samplePairs(labels: ArrayLike<number>, count: number, seed: number): Pairs {
  const byLabel = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const members = byLabel.get(labels[i]!) ?? [];
    members.push(i);
    byLabel.set(labels[i]!, members);
  }
  const classes = [...byLabel.keys()].sort((a, b) => a - b);
  const pairable = classes.filter((c) => byLabel.get(c)!.length >= 2);
  if (pairable.length === 0 || classes.length < 2) throw new RangeError(`samplePairs: need a class with 2+ images and 2+ classes (have ${classes.length} classes, ${pairable.length} with 2+ images)`);
  const random = new Random(seed);
  const first = new Uint32Array(count), second = new Uint32Array(count); // [P]
  const isSame: boolean[] = [];
  for (let k = 0; k < count; k++) {
    const same = k % 2 === 0;
    if (same) {
      const members = byLabel.get(random.pick(pairable))!;
      const i = random.int(members.length);
      const j = (i + 1 + random.int(members.length - 1)) % members.length; // any member but i
      first[k] = members[i]!;
      second[k] = members[j]!;
    } else {
      const a = random.int(classes.length);
      const b = (a + 1 + random.int(classes.length - 1)) % classes.length;
      first[k] = random.pick(byLabel.get(classes[a]!)!);
      second[k] = random.pick(byLabel.get(classes[b]!)!);
    }
    isSame.push(same);
  }
  return { first, second, isSame };
}
