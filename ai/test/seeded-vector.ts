/**
 * A deterministic pseudo-random unit vector for a piece of text: the same text always gives the same vector, and
 * vectors of different texts are nearly orthogonal in high dimensions (cosine ~ ±1/sqrt(dim)). Summing them gives
 * bag-of-words vectors that behave like embeddings in search: shared words mean close vectors.
 */
export function seededUnitVector(text: string, dim: number): Float32Array {
  const random = mulberry32(fnv1a(text));
  const vector = new Float32Array(dim);
  let norm = 0;
  for (let i = 0; i < dim; i++) {
    // Box-Muller: Gaussian components make the direction uniform on the sphere.
    const value = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    vector[i] = value;
    norm += value * value;
  }
  norm = Math.sqrt(norm);
  for (let i = 0; i < dim; i++) vector[i]! /= norm;
  return vector;
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) hash = Math.imul(hash ^ byte, 0x01000193);
  return hash >>> 0;
}

/** Small seeded PRNG returning floats in [0, 1). */
function mulberry32(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
