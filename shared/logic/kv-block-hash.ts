// KV-cache block hashing exactly as TensorRT-LLM's C++ `BlockKeyHasher::hash(blockKey, parentHash)`, and the
// kv_cache_aware router's chunking of a prompt into chained blocks (trtllm-protocol.md 6.3, 4.7).
// Layer: shared (pure).
//
// Why exact: a worker reports the hashes of the blocks it stored in `/kv_cache_events` (uint64, `size_t`), and the
// router matches them against hashes it computes from the prompt. Both sides must agree bit for bit, so this is
// plain unsigned 64-bit arithmetic with C++ wrap-around semantics, including one subtle 32-bit wrap (see `mix32`).
//
// The hot path (token loop) works on two unsigned 32-bit halves held in JS numbers; only the per-block setup and
// the rare extras (extra ids, LoRA, salt, multimodal) use BigInt. `hashBlockKeyBigInt` is a straightforward
// all-BigInt version of the same algorithm that the tests compare against.

const MASK64 = (1n << 64n) - 1n;
/** Multiplier applied to the parent hash, and first constant of the 64-bit (splitmix64 finaliser) mix. */
const PARENT_MUL = 0xbf58476d1ce4e5b9n;
const MIX64_MUL2 = 0x94d049bb133111ebn;
const MIX32_MUL = 0x45d9f3b;
const COMBINE = 0x9e3779b9;
const TWO_POW_32 = 0x1_0000_0000;

/** Multimodal extra key of a block: a 32-byte content hash and the item's start offset within the block. */
export interface BlockMultimodalKey {
  /** 32 bytes (upstream's `std::array<uint8_t, 32>`). */
  hash: readonly number[] | Uint8Array;
  startOffset: number;
}

/** Optional parts of upstream's `BlockKey`. The kv_cache_aware router uses none of them (plain `BlockKey(tokens)`). */
export interface BlockKeyExtras {
  /** One extra id per token (`usesExtraIds` = true), folded after each token. */
  tokenExtraIds?: readonly (number | bigint)[];
  /** LoRA task id, folded after the tokens. */
  loraTaskId?: number | bigint;
  /** Cache salt id, folded only into the first block of a sequence (parent hash 0). */
  cacheSaltId?: number | bigint;
  /** Multimodal keys, folded last. */
  multimodalKeys?: readonly BlockMultimodalKey[];
}

function toU64(v: number | bigint): bigint {
  return BigInt.asUintN(64, typeof v === 'bigint' ? v : BigInt(v));
}

/** Upstream's 64-bit mix (splitmix64 finaliser) folded into `seed`; all arithmetic wraps at 64 bits. */
function mix64(value: bigint, seed: bigint): bigint {
  let c = value & MASK64;
  c = ((c ^ (c >> 30n)) * PARENT_MUL) & MASK64;
  c = ((c ^ (c >> 27n)) * MIX64_MUL2) & MASK64;
  c = c ^ (c >> 31n);
  // Here `c` is uint64, so `c + 0x9e3779b9` does NOT wrap at 32 bits (unlike mix32).
  return (seed ^ ((c + BigInt(COMBINE) + (seed << 6n) + (seed >> 2n)) & MASK64)) & MASK64;
}

/** Upstream's 32-bit integer hash of a token id (all steps wrap at 32 bits). */
function hash32(tokenId: number): number {
  let a = tokenId >>> 0; // static_cast<uint32_t>(int32 token id)
  a = Math.imul((a >>> 16) ^ a, MIX32_MUL) >>> 0;
  a = Math.imul((a >>> 16) ^ a, MIX32_MUL) >>> 0;
  a = ((a >>> 16) ^ a) >>> 0;
  // Quirk: in C++ both `a` and 0x9e3779b9 are 32-bit unsigned, so this sum wraps to uint32 *before* the
  // size_t terms `(seed << 6) + (seed >> 2)` are added. Upstream's own Python port notes the same.
  return (a + COMBINE) >>> 0;
}

function mix32BigInt(tokenId: number, seed: bigint): bigint {
  return (seed ^ ((BigInt(hash32(tokenId)) + (seed << 6n) + (seed >> 2n)) & MASK64)) & MASK64;
}

/** 4 little-endian bytes of a 32-byte multimodal hash as a uint32 word. */
function mmWord(bytes: readonly number[] | Uint8Array, i: number): number {
  const b = (k: number): number => (bytes[i + k] ?? 0) & 0xff;
  return (b(0) | (b(1) << 8) | (b(2) << 16) | (b(3) << 24)) >>> 0;
}

/** Folds the parts after the tokens (LoRA, multimodal keys), shared by both implementations. */
function foldTail(seed: bigint, extra: BlockKeyExtras | undefined): bigint {
  let s = seed;
  if (extra?.loraTaskId !== undefined) {
    s = mix64(toU64(extra.loraTaskId), s);
  }
  for (const mm of extra?.multimodalKeys ?? []) {
    for (let i = 0; i < 32; i += 4) {
      s = mix32BigInt(mmWord(mm.hash, i), s);
    }
    s = mix64(toU64(mm.startOffset), s);
  }
  return s;
}

function initialSeed(
  numTokens: number,
  parentHash: bigint,
  extra: BlockKeyExtras | undefined,
): bigint {
  const parent = BigInt.asUintN(64, parentHash);
  let seed = (BigInt(numTokens) ^ ((parent * PARENT_MUL) & MASK64)) & MASK64;
  // Upstream folds the cache salt only into the first block of a sequence.
  if (parent === 0n && extra?.cacheSaltId !== undefined) {
    seed = mix64(toU64(extra.cacheSaltId), seed);
  }
  return seed;
}

/**
 * Reference implementation in BigInt only: slow but obviously exact. Same contract as `hashBlockKey`.
 * Exported for tests and for anyone who wants to cross-check.
 */
export function hashBlockKeyBigInt(
  tokenIds: readonly number[],
  parentHash: bigint,
  extra?: BlockKeyExtras,
): bigint {
  let seed = initialSeed(tokenIds.length, parentHash, extra);
  const extraIds = extra?.tokenExtraIds;
  for (let i = 0; i < tokenIds.length; i++) {
    seed = mix32BigInt(tokenIds[i] ?? 0, seed);
    if (extraIds) {
      seed = mix64(toU64(extraIds[i] ?? 0), seed);
    }
  }
  return foldTail(seed, extra);
}

/**
 * Hash of one block of token ids chained to its parent block's hash (0 for the first block): upstream's
 * `BlockKeyHasher::hash(BlockKey(tokens), parentHash)`, an unsigned 64-bit value (often > 2^53, hence bigint).
 */
export function hashBlockKey(
  tokenIds: readonly number[],
  parentHash: bigint,
  extra?: BlockKeyExtras,
): bigint {
  if (extra?.tokenExtraIds !== undefined) {
    // Per-token 64-bit mixes: not on the router's path, so the simple BigInt version is fast enough.
    return hashBlockKeyBigInt(tokenIds, parentHash, extra);
  }
  const seed0 = initialSeed(tokenIds.length, parentHash, extra);
  let hi = Number(seed0 >> 32n);
  let lo = Number(seed0 & 0xffff_ffffn);
  for (let i = 0; i < tokenIds.length; i++) {
    const v = hash32(tokenIds[i] ?? 0);
    // seed ^= v + (seed << 6) + (seed >> 2)   (mod 2^64), on 32-bit halves
    const shlHi = ((hi << 6) | (lo >>> 26)) >>> 0;
    const shlLo = (lo << 6) >>> 0;
    const shrHi = hi >>> 2;
    const shrLo = ((lo >>> 2) | (hi << 30)) >>> 0;
    const sumLo = v + shlLo + shrLo; // < 3 * 2^32, exact in a double
    const carry = Math.floor(sumLo / TWO_POW_32);
    const addHi = (shlHi + shrHi + carry) >>> 0;
    hi = (hi ^ addHi) >>> 0;
    lo = (lo ^ (sumLo >>> 0)) >>> 0;
  }
  const seed = (BigInt(hi) << 32n) | BigInt(lo);
  return foldTail(seed, extra);
}

/**
 * The kv_cache_aware router's block hashes of one prompt (trtllm-protocol.md 6.3): for t = 0, B, 2B, ... while
 * t < len - 1, hash tokens[t : min(t + B, len - 1)] chained to the previous block's hash (0 for the first).
 * The last prompt token is never included; a final partial block is. A prompt of 0 or 1 tokens has no blocks.
 */
export function computeBlockHashes(tokenIds: readonly number[], tokensPerBlock: number): bigint[] {
  if (!Number.isInteger(tokensPerBlock) || tokensPerBlock <= 0) {
    throw new RangeError(`tokensPerBlock must be a positive integer, got ${tokensPerBlock}`);
  }
  const end = tokenIds.length - 1;
  const hashes: bigint[] = [];
  let parent = 0n;
  for (let t = 0; t < end; t += tokensPerBlock) {
    parent = hashBlockKey(tokenIds.slice(t, Math.min(t + tokensPerBlock, end)), parent);
    hashes.push(parent);
  }
  return hashes;
}
