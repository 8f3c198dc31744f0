// Classic libpcap capture files (not pcapng), for tests and debugging: open with
// `tshark -r FILE` or Wireshark. Link type 228 (LINKTYPE_IPV4) by default: each record is a bare
// IPv4 packet, exactly what lsprobe hands the raw socket; 229 (LINKTYPE_IPV6) for bare IPv6
// packets, 101 (LINKTYPE_RAW) for either, the version nibble telling them apart.
//
//   global header (24 octets)              record header (16 octets), then caplen octets
//   0  magic 0xa1b2c3d4 (us timestamps)    0  ts_sec
//   4  version_major 2, version_minor 4    4  ts_usec
//   8  thiszone 0                           8  caplen  (min(len, snaplen))
//   12 sigfigs 0                            12 len     (original length)
//   16 snaplen 65535
//   20 linktype 228 (or 229, 101)
//
// Written in little-endian order; readers learn the order from the magic.

import { writeFileSync } from "node:fs";

export const PCAP_MAGIC = 0xa1b2c3d4;
export const PCAP_VERSION_MAJOR = 2;
export const PCAP_VERSION_MINOR = 4;
export const PCAP_SNAPLEN = 65535;
// ---- tcpdump.org link-layer header types ----
/** Raw IP, IPv4 or IPv6 (the first nibble says which). */
export const LINKTYPE_RAW = 101;
/** Raw IPv4. */
export const LINKTYPE_IPV4 = 228;
/** Raw IPv6. */
export const LINKTYPE_IPV6 = 229;
export const PCAP_GLOBAL_HEADER_LENGTH = 24;
export const PCAP_RECORD_HEADER_LENGTH = 16;

export interface PcapRecord {
  data: Uint8Array;
  /** Capture time; default: record i at 0 s + i us, so files are reproducible. */
  tsSec?: number;
  tsUsec?: number;
}

/** Encodes a whole pcap file. Packets longer than the snaplen are cut, keeping their real length. */
export function encodePcap(packets: readonly (Uint8Array | PcapRecord)[], snaplen = PCAP_SNAPLEN, linktype = LINKTYPE_IPV4): Buffer {
  const recs = packets.map((p, i): Required<PcapRecord> => {
    const r = p instanceof Uint8Array ? { data: p } : p;
    return { data: r.data, tsSec: r.tsSec ?? Math.floor(i / 1e6), tsUsec: r.tsUsec ?? i % 1e6 };
  });
  const total = recs.reduce((n, r) => n + PCAP_RECORD_HEADER_LENGTH + Math.min(r.data.length, snaplen), PCAP_GLOBAL_HEADER_LENGTH);
  const out = Buffer.alloc(total);
  out.writeUInt32LE(PCAP_MAGIC, 0);
  out.writeUInt16LE(PCAP_VERSION_MAJOR, 4);
  out.writeUInt16LE(PCAP_VERSION_MINOR, 6);
  out.writeInt32LE(0, 8);
  out.writeUInt32LE(0, 12);
  out.writeUInt32LE(snaplen, 16);
  out.writeUInt32LE(linktype, 20);
  let off = PCAP_GLOBAL_HEADER_LENGTH;
  for (const r of recs) {
    const caplen = Math.min(r.data.length, snaplen);
    out.writeUInt32LE(r.tsSec, off);
    out.writeUInt32LE(r.tsUsec, off + 4);
    out.writeUInt32LE(caplen, off + 8);
    out.writeUInt32LE(r.data.length, off + 12);
    out.set(r.data.subarray(0, caplen), off + PCAP_RECORD_HEADER_LENGTH);
    off += PCAP_RECORD_HEADER_LENGTH + caplen;
  }
  return out;
}

/** Writes encodePcap(packets) to `path`. Copy patched templates first: patch() reuses its buffer. */
export function writePcap(path: string, packets: readonly (Uint8Array | PcapRecord)[], linktype = LINKTYPE_IPV4): void {
  writeFileSync(path, encodePcap(packets, PCAP_SNAPLEN, linktype));
}
