/**
 * FNV-1a, 64-bit, over the UTF-8 bytes of a string, as 16 hex digits. Not cryptographic: it names
 * a plan, identically on every machine and every run (integer arithmetic only).
 */
export function fnv1a64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  // 64-bit state as two 32-bit halves; prime 2^40 + 2^8 + 0xb3.
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (const byte of bytes) {
    lo = (lo ^ byte) >>> 0;
    // (hi:lo) * 0x100000001b3 = (hi:lo) * 0x1b3 + (lo << 40)
    const loMul = lo * 0x1b3;
    const carry = Math.floor(loMul / 0x100000000);
    const newLo = loMul >>> 0;
    const newHi = (Math.imul(hi, 0x1b3) + carry + ((lo << 8) >>> 0)) >>> 0;
    hi = newHi;
    lo = newLo;
  }
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}
