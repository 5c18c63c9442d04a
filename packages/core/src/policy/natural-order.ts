function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function digitRunEnd(text: string, start: number): number {
  let end = start;
  while (end < text.length && isDigit(text.charCodeAt(end))) end++;
  return end;
}

function nextDigit(text: string, start: number): number {
  let index = start;
  while (index < text.length && !isDigit(text.charCodeAt(index))) index++;
  return index;
}

/**
 * Compares two digit runs as unbounded integers (leading zeros ignored), without `Number`, so
 * 20-digit timestamps compare exactly.
 */
function compareDigitRuns(
  a: string,
  aStart: number,
  aEnd: number,
  b: string,
  bStart: number,
  bEnd: number,
): number {
  let i = aStart;
  let j = bStart;
  while (i < aEnd - 1 && a.charCodeAt(i) === 48) i++;
  while (j < bEnd - 1 && b.charCodeAt(j) === 48) j++;
  const lengthDifference = aEnd - i - (bEnd - j);
  if (lengthDifference !== 0) return lengthDifference < 0 ? -1 : 1;
  for (; i < aEnd; i++, j++) {
    const difference = a.charCodeAt(i) - b.charCodeAt(j);
    if (difference !== 0) return difference < 0 ? -1 : 1;
  }
  return 0;
}

/**
 * Numeric-aware ordering: digit runs compare as numbers, everything else by UTF-16 code unit, so
 * `dev-9 < dev-10` and `build-2026.1.9 < build-2026.1.10`. Deliberately not locale-aware: the
 * order must be the same on every machine. Equal-valued spellings (`dev-01`, `dev-1`) compare equal.
 */
export function compareNatural(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const codeA = a.charCodeAt(i);
    const codeB = b.charCodeAt(j);
    if (isDigit(codeA) && isDigit(codeB)) {
      const endA = digitRunEnd(a, i);
      const endB = digitRunEnd(b, j);
      const difference = compareDigitRuns(a, i, endA, b, j, endB);
      if (difference !== 0) return difference;
      i = endA;
      j = endB;
    } else {
      if (codeA !== codeB) return codeA < codeB ? -1 : 1;
      i++;
      j++;
    }
  }
  const rest = a.length - i - (b.length - j);
  return rest === 0 ? 0 : rest < 0 ? -1 : 1;
}

/**
 * Compares only the digit runs of two keys, one segment after the other, ignoring what separates
 * them: `20261101-1234 > 20261101-999`, `1.10 > 1.9`. A key with more segments wins a tie.
 */
export function compareNumericSegments(a: string, b: string): number {
  let i = nextDigit(a, 0);
  let j = nextDigit(b, 0);
  while (i < a.length && j < b.length) {
    const endA = digitRunEnd(a, i);
    const endB = digitRunEnd(b, j);
    const difference = compareDigitRuns(a, i, endA, b, j, endB);
    if (difference !== 0) return difference;
    i = nextDigit(a, endA);
    j = nextDigit(b, endB);
  }
  const moreA = i < a.length;
  const moreB = j < b.length;
  return moreA === moreB ? 0 : moreA ? 1 : -1;
}

export function containsDigit(text: string): boolean {
  return nextDigit(text, 0) < text.length;
}

/** Plain UTF-16 code unit order, the same everywhere (unlike `localeCompare`). */
export function compareCodeUnits(a: string, b: string): number {
  return a === b ? 0 : a < b ? -1 : 1;
}
