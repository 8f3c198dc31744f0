// The Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement sum of
// the data taken as big-endian 16-bit words, an odd trailing byte padded with a zero byte.
//
// RFC 1071 §2 (B): the sum may be accumulated in a wider register and the carries folded back
// in at the end. A JS number holds integers exactly up to 2^53, so the word loop just adds and
// folds once: a 64 KiB datagram sums to at most 32768 * 0xFFFF < 2^31.
//
// Partial sums compose (RFC 1071 §2 (C), incremental update): onesComplementSum() returns the
// folded 16-bit sum, which is a valid `initial` for the next range. That is how the UDP
// pseudo-header is added, and how ProbeTemplate re-sums only the fields that change per probe.
// A range to be summed on its own must start at an even offset relative to the checksummed
// block (all lsprobe headers do).

/** Folds the carries of a non-negative integer sum into 16 bits (end-around carry). */
export function foldSum(sum: number): number {
  // Two rounds suffice below 2^32; the loop keeps wider sums (up to 2^53) exact too.
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/**
 * The folded (not complemented) one's complement sum of buf[start, end) as 16-bit big-endian
 * words, added to `initial` (a previous partial sum, or a pseudo-header sum).
 */
export function onesComplementSum(buf: Uint8Array, start: number, end: number, initial = 0): number {
  if (start < 0 || end > buf.length || start > end) {
    throw new RangeError(`checksum range [${start}, ${end}) is outside the ${buf.length}-byte buffer`);
  }
  let sum = initial;
  let i = start;
  const last = end - 1;
  for (; i < last; i += 2) sum += (buf[i] << 8) | buf[i + 1];
  if (i < end) sum += buf[i] << 8; // odd trailing byte, padded with zero
  return foldSum(sum);
}

/** The checksum field value for a folded or unfolded sum: its one's complement, 16 bits. */
export function finishChecksum(sum: number): number {
  return ~foldSum(sum) & 0xffff;
}

/**
 * The Internet checksum of buf[start, end) with `initial` added (e.g. a pseudo-header sum).
 * Computed over a block whose checksum field holds the transmitted value, it is 0 when valid.
 */
export function internetChecksum(buf: Uint8Array, start: number, end: number, initial = 0): number {
  return finishChecksum(onesComplementSum(buf, start, end, initial));
}
