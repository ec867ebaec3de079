// A minimal Python unpickler for exactly what insightface's verification .bin files hold: a tuple
// (list of encoded images as bytes, list of bools). Pickle is a little stack machine: each opcode
// pushes a value, builds a container from the values above a MARK, or stores/fetches a value in the
// memo. Python 2 files (protocol 2) hold the images as str (SHORT_BINSTRING/BINSTRING), which we read
// as bytes like Python 3's pickle.load(f, encoding='bytes'); Python 3 files hold bytes (protocol 3-5),
// or, at protocol 2, `_codecs.encode(text, 'latin1')` calls, the one global we evaluate. Any other
// opcode, or any other global (numpy arrays, dicts, classes), is an error naming the byte offset.
import { DataFormatError } from './errors.ts';

/** Unpickled values: tuples and lists both become arrays; Python 2 str and bytes become Uint8Array. */
export type PickleValue = null | boolean | number | string | Uint8Array | PickleValue[];

const MARK = Symbol('mark');
interface GlobalRef {
  global: string;
}
type StackItem = PickleValue | typeof MARK | GlobalRef;

const OPCODE_NAMES: Record<number, string> = {
  0x63: 'GLOBAL', 0x93: 'STACK_GLOBAL', 0x52: 'REDUCE', 0x62: 'BUILD', 0x7d: 'EMPTY_DICT', 0x73: 'SETITEM', 0x75: 'SETITEMS',
  0x81: 'NEWOBJ', 0x92: 'NEWOBJ_EX', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x49: 'INT', 0x4c: 'LONG', 0x53: 'STRING', 0x56: 'UNICODE',
  0x46: 'FLOAT', 0x70: 'PUT', 0x67: 'GET', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET',
};

export function unpickle(bytes: Uint8Array, file: string): PickleValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: StackItem[] = [];
  const memo = new Map<number, PickleValue | GlobalRef>(); // globals are memoized too (BINGET reuses _codecs.encode)
  let at = 0;
  let opAt = 0;

  const fail = (detail: string, offset = opAt): never => {
    throw new DataFormatError(file, offset, detail);
  };
  const need = (n: number): number => {
    if (at + n > bytes.length) fail(`truncated: opcode 0x${bytes[opAt]!.toString(16)} needs ${n} more bytes at byte ${at}, the file ends at byte ${bytes.length}`, at);
    const start = at;
    at += n;
    return start;
  };
  const u8 = (): number => bytes[need(1)]!;
  const u32 = (): number => view.getUint32(need(4), true);
  const u64 = (): number => {
    const start = need(8);
    const value = view.getBigUint64(start, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) fail(`length ${value} is too large`, start);
    return Number(value);
  };
  const take = (n: number): Uint8Array => bytes.slice(need(n), at);
  const line = (): string => {
    const end = bytes.indexOf(0x0a, at);
    if (end < 0) fail('truncated: a newline-terminated name runs to the end of the file', at);
    const text = new TextDecoder('latin1').decode(bytes.subarray(at, end));
    at = end + 1;
    return text;
  };
  const pop = (): StackItem => (stack.length > 0 ? stack.pop()! : fail('stack underflow'));
  const popValue = (): PickleValue => {
    const item = pop();
    if (item === MARK || isGlobal(item)) fail('expected a value on the stack, found a MARK or a global');
    return item as PickleValue;
  };
  const popToMark = (): PickleValue[] => {
    const mark = stack.lastIndexOf(MARK);
    if (mark < 0) fail('no MARK on the stack');
    const items = stack.splice(mark);
    items.shift();
    if (items.some((x) => isGlobal(x))) fail('a global inside a container is not supported');
    return items as PickleValue[];
  };
  const top = (): PickleValue | GlobalRef => {
    const item = stack[stack.length - 1];
    if (item === undefined || item === MARK) fail('memo store without a value on the stack');
    return item as PickleValue | GlobalRef;
  };
  const list = (): PickleValue[] => {
    const target = stack[stack.length - 1];
    if (!Array.isArray(target)) fail('APPEND(S) onto something that is not a list');
    return target as PickleValue[];
  };
  const utf8 = (b: Uint8Array): string => new TextDecoder('utf-8').decode(b);

  for (;;) {
    if (at >= bytes.length) fail(`truncated: no STOP opcode before the end of the file (${bytes.length} bytes)`, bytes.length);
    opAt = at;
    const op = bytes[at++]!;
    switch (op) {
      case 0x80: { // PROTO
        const protocol = u8();
        if (protocol > 5) fail(`pickle protocol ${protocol} is newer than 5`);
        break;
      }
      case 0x95: need(8); break; // FRAME: a length hint only
      case 0x2e: { // STOP
        const result = popValue();
        return result;
      }
      case 0x28: stack.push(MARK); break;
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x6c: stack.push(popToMark()); break; // LIST
      case 0x74: stack.push(popToMark()); break; // TUPLE
      case 0x85: stack.push([popValue()]); break; // TUPLE1
      case 0x86: { const b = popValue(); const a = popValue(); stack.push([a, b]); break; } // TUPLE2
      case 0x87: { const c = popValue(); const b = popValue(); const a = popValue(); stack.push([a, b, c]); break; } // TUPLE3
      case 0x61: { const item = popValue(); list().push(item); break; } // APPEND
      case 0x65: { const items = popToMark(); list().push(...items); break; } // APPENDS
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: case 0x6a: { // BINGET, LONG_BINGET
        const key = op === 0x68 ? u8() : u32();
        if (!memo.has(key)) fail(`memo key ${key} was never stored`);
        stack.push(memo.get(key)!);
        break;
      }
      case 0x43: stack.push(take(u8())); break; // SHORT_BINBYTES
      case 0x42: stack.push(take(u32())); break; // BINBYTES
      case 0x8e: stack.push(take(u64())); break; // BINBYTES8
      case 0x96: stack.push(take(u64())); break; // BYTEARRAY8
      case 0x55: stack.push(take(u8())); break; // SHORT_BINSTRING (Python 2 str, read as bytes)
      case 0x54: stack.push(take(u32())); break; // BINSTRING
      case 0x8c: stack.push(utf8(take(u8()))); break; // SHORT_BINUNICODE
      case 0x58: stack.push(utf8(take(u32()))); break; // BINUNICODE
      case 0x8d: stack.push(utf8(take(u64()))); break; // BINUNICODE8
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4e: stack.push(null); break; // NONE
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(view.getUint16(need(2), true)); break; // BININT2
      case 0x4a: stack.push(view.getInt32(need(4), true)); break; // BININT
      case 0x47: stack.push(view.getFloat64(need(8), false)); break; // BINFLOAT (big-endian)
      case 0x63: stack.push(checkGlobal(`${line()}.${line()}`, fail)); break; // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = popValue(), module = popValue();
        if (typeof name !== 'string' || typeof module !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(checkGlobal(`${module}.${name}`, fail));
        break;
      }
      case 0x52: { // REDUCE: only the two calls Python 3 uses to pickle bytes at protocol 2
        const args = popValue();
        const callee = pop();
        if (!isGlobal(callee) || !Array.isArray(args)) fail('REDUCE needs a global and an argument tuple');
        stack.push(callBytesGlobal((callee as GlobalRef).global, args as PickleValue[], fail));
        break;
      }
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')} (${OPCODE_NAMES[op] ?? `'${String.fromCharCode(op)}'`}): this reader handles the tuples, lists, bytes and bools of insightface .bin files`);
    }
  }
}

function isGlobal(item: StackItem): item is GlobalRef {
  return typeof item === 'object' && item !== null && !Array.isArray(item) && !(item instanceof Uint8Array);
}

const BYTES_GLOBALS = ['_codecs.encode', '__builtin__.bytes', 'builtins.bytes'];

function checkGlobal(name: string, fail: (detail: string) => never): GlobalRef {
  if (!BYTES_GLOBALS.includes(name)) fail(`unsupported global ${name}: only ${BYTES_GLOBALS.join(', ')} (bytes pickled by Python 3 at protocol 2) are understood`);
  return { global: name };
}

/** _codecs.encode(text, 'latin1') (each char one byte) or bytes() (empty). */
function callBytesGlobal(name: string, args: PickleValue[], fail: (detail: string) => never): Uint8Array {
  if (name !== '_codecs.encode') {
    if (args.length !== 0) fail(`${name} with arguments is not supported`);
    return new Uint8Array(0);
  }
  const [text, encoding] = args;
  if (typeof text !== 'string') fail('_codecs.encode needs a str argument');
  if (encoding !== 'latin1' && encoding !== 'latin-1') fail(`_codecs.encode with encoding ${JSON.stringify(encoding)}: only latin1 is supported`);
  return Uint8Array.from(text as string, (ch) => ch.charCodeAt(0));
}
