/**
 * Splits a container's log output into lines. Without a TTY, the engine multiplexes stdout and
 * stderr into frames of an 8-byte header (stream, 0, 0, 0, big-endian length) and a payload;
 * with a TTY the bytes come raw.
 */
export function demultiplex(buffer: Uint8Array): string {
  const bytes = Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  if (!looksMultiplexed(bytes)) return bytes.toString('utf8');
  const chunks: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= bytes.length) {
    const length = bytes.readUInt32BE(offset + 4);
    const end = Math.min(bytes.length, offset + 8 + length);
    chunks.push(bytes.subarray(offset + 8, end));
    offset = end;
  }
  return Buffer.concat(chunks).toString('utf8');
}

function looksMultiplexed(bytes: Buffer): boolean {
  if (bytes.length < 8) return false;
  const stream = bytes[0] ?? 255;
  return stream <= 2 && bytes[1] === 0 && bytes[2] === 0 && bytes[3] === 0;
}

/** The last `tail` non-empty lines of the output. */
export function lastLines(text: string, tail: number): string[] {
  if (tail <= 0) return [];
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  return lines.slice(-tail);
}
