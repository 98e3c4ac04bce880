//! Where a JSON value ends, found 64 bytes at a time.
//!
//! A block of 64 bytes becomes four bit masks: its quotes, its backslashes,
//! its openers (`{`, `[`) and its closers (`}`, `]`). A quote ends a string
//! unless an odd run of backslashes comes right before it; which bytes lie
//! inside strings is then the running XOR of the string-ending quotes, and
//! the openers and closers outside strings give the nesting depth. Each block
//! costs a few word operations instead of a branch per byte: recorded
//! WebSocket messages are JSON inside JSON strings, with an escape every few
//! bytes, and that is where byte-wise skipping spends its time.
//!
//! The masks come from SSE2 (16 bytes to a comparison; every x86-64 has it),
//! or from AVX-512BW (64 bytes to a comparison) on a CPU found to have it;
//! elsewhere a byte at a time (tests, and targets where nothing is skimmed).
//! Only the extent of a value is found, never its content checked: what is
//! skipped this way is what its reader would have ignored.

/// The masks of one 64-byte block: bit `i` stands for the block's byte `i`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Masks {
    quotes: u64,
    backslashes: u64,
    openers: u64,
    closers: u64,
}

/// Whether this build makes the masks with vector instructions (SSE2 on
/// x86-64); the bytewise fallback is several times slower than serde_json's
/// own skipping.
pub(super) const VECTORISED: bool = cfg!(all(target_arch = "x86_64", target_feature = "sse2"));

/// Bytes scanned at a time.
const BLOCK: usize = 64;

/// Bit `i` set for every even `i`.
const EVEN_BITS: u64 = 0x5555_5555_5555_5555;

/// The end (exclusive) of the JSON value that starts at `doc[at]` (not
/// whitespace), or `None` when the document ends before it does.
pub(super) fn value_end(doc: &[u8], at: usize) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512bw") {
        // SAFETY: this CPU has AVX-512BW, as just checked.
        return unsafe { avx512::value_end(doc, at) };
    }
    value_end_with(doc, at, masks)
}

/// [`value_end`], a block's masks made by `masks` (inlined into each caller,
/// so that each way of making them gets a scan of its own).
#[inline(always)]
fn value_end_with(doc: &[u8], at: usize, masks: impl Fn(&[u8; BLOCK]) -> Masks + Copy) -> Option<usize> {
    match doc.get(at)? {
        b'"' => string_end(doc, at, masks),
        b'{' | b'[' => container_end(doc, at, masks),
        _ => {
            // A number, `true`, `false` or `null`: up to the next delimiter.
            let len = doc[at..]
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t'))
                .unwrap_or(doc.len() - at);
            Some(at + len)
        }
    }
}

/// The end of the string whose opening quote is `doc[at]`.
#[inline(always)]
fn string_end(doc: &[u8], at: usize, masks: impl Fn(&[u8; BLOCK]) -> Masks + Copy) -> Option<usize> {
    let mut escapes = Escapes::default();
    let mut start = at + 1;
    while start < doc.len() {
        let masks = block_masks(doc, start, masks);
        let closing = masks.quotes & !escapes.escaped(masks.backslashes);
        if closing != 0 {
            return Some(start + closing.trailing_zeros() as usize + 1).filter(|&end| end <= doc.len());
        }
        start += BLOCK;
    }
    None
}

/// The end of the object or array whose opener is `doc[at]`.
#[inline(always)]
fn container_end(doc: &[u8], at: usize, masks: impl Fn(&[u8; BLOCK]) -> Masks + Copy) -> Option<usize> {
    let mut escapes = Escapes::default();
    let mut in_string = 0u64;
    let mut depth = 0u32;
    let mut start = at;
    while start < doc.len() {
        let masks = block_masks(doc, start, masks);
        let quotes = masks.quotes & !escapes.escaped(masks.backslashes);
        let strings = prefix_xor(quotes) ^ in_string;
        // All ones when the block ends inside a string.
        in_string = 0u64.wrapping_sub(strings >> 63);
        let openers = masks.openers & !strings;
        let closers = masks.closers & !strings;
        if closers.count_ones() < depth {
            // The depth cannot reach zero in this block.
            depth = depth + openers.count_ones() - closers.count_ones();
        } else {
            let mut brackets = openers | closers;
            while brackets != 0 {
                let bit = brackets & brackets.wrapping_neg();
                if openers & bit != 0 {
                    depth += 1;
                } else {
                    depth -= 1;
                    if depth == 0 {
                        let end = start + bit.trailing_zeros() as usize + 1;
                        return Some(end).filter(|&end| end <= doc.len());
                    }
                }
                brackets &= brackets - 1;
            }
        }
        start += BLOCK;
    }
    None
}

/// Which bytes a backslash escapes, carried from block to block.
#[derive(Debug, Default)]
struct Escapes {
    /// Whether the previous block ended with a backslash that escapes this block's first byte.
    carry: u64,
}

impl Escapes {
    /// The bytes of this block escaped by a backslash: the byte after each
    /// odd-numbered backslash of a run (a run `\\` escapes itself, not what follows).
    fn escaped(&mut self, backslashes: u64) -> u64 {
        // A first byte escaped by the previous block is no escape of its own.
        let backslashes = backslashes & !self.carry;
        let follows_backslash = (backslashes << 1) | self.carry;
        // Adding the starts of the runs that begin on an odd bit to the
        // backslashes clears those runs and sets the bit just past each one.
        // Past a run, "odd length" means "ends on the other parity than it
        // starts": the XOR with the even bits picks, for both kinds of start,
        // the bytes that follow a run of odd length.
        let odd_starts = backslashes & !EVEN_BITS & !follows_backslash;
        let (after_odd_starts, overflow) = odd_starts.overflowing_add(backslashes);
        self.carry = u64::from(overflow);
        (EVEN_BITS ^ (after_odd_starts << 1)) & follows_backslash
    }
}

/// Bit `i` of the result is the XOR of bits `0..=i` of `bits`: set between
/// an opening quote (included) and its closing one (excluded).
fn prefix_xor(mut bits: u64) -> u64 {
    for shift in [1, 2, 4, 8, 16, 32] {
        bits ^= bits << shift;
    }
    bits
}

/// The masks of the 64 bytes from `start`, padded with spaces past the end of `doc`
/// (inlined: a string's scan, which reads no brackets, then computes none).
#[inline(always)]
fn block_masks(doc: &[u8], start: usize, masks: impl Fn(&[u8; BLOCK]) -> Masks) -> Masks {
    let rest = &doc[start.min(doc.len())..];
    match rest.first_chunk::<BLOCK>() {
        Some(block) => masks(block),
        None => {
            let mut block = [b' '; BLOCK];
            block[..rest.len()].copy_from_slice(rest);
            masks(&block)
        }
    }
}

/// The scan compiled for AVX-512BW, where a comparison of 64 bytes gives their mask at once.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::{BLOCK, Masks};
    use std::arch::x86_64::{
        __m512i, _mm512_cmpeq_epi8_mask, _mm512_loadu_si512, _mm512_or_si512, _mm512_set1_epi8,
    };

    /// [`super::value_end`] on a CPU with AVX-512BW.
    #[target_feature(enable = "avx512bw")]
    pub(super) fn value_end(doc: &[u8], at: usize) -> Option<usize> {
        super::value_end_with(doc, at, |block| masks(block))
    }

    #[target_feature(enable = "avx512bw")]
    #[inline]
    pub(super) fn masks(block: &[u8; BLOCK]) -> Masks {
        // SAFETY: `_mm512_loadu_si512` reads the 64 bytes of `block`, with no alignment required.
        let bytes = unsafe { _mm512_loadu_si512(block.as_ptr().cast::<__m512i>()) };
        // `{` and `[` differ in one bit (0x20), as do `}` and `]`: one comparison finds both.
        let folded = _mm512_or_si512(bytes, _mm512_set1_epi8(0x20));
        Masks {
            quotes: _mm512_cmpeq_epi8_mask(bytes, _mm512_set1_epi8(b'"' as i8)),
            backslashes: _mm512_cmpeq_epi8_mask(bytes, _mm512_set1_epi8(b'\\' as i8)),
            openers: _mm512_cmpeq_epi8_mask(folded, _mm512_set1_epi8(b'{' as i8)),
            closers: _mm512_cmpeq_epi8_mask(folded, _mm512_set1_epi8(b'}' as i8)),
        }
    }
}

/// The masks of `block`, 16 bytes to an instruction.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn masks(block: &[u8; BLOCK]) -> Masks {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    let mut masks = Masks::default();
    // SAFETY: this build enables SSE2 (the `cfg` above), all these intrinsics need; `_mm_loadu_si128` reads
    // the 16 bytes of a `lane`, with no alignment required.
    unsafe {
        // `{` and `[` differ in one bit (0x20), as do `}` and `]`: one comparison finds both.
        let case = _mm_set1_epi8(0x20);
        let (quote, backslash) = (_mm_set1_epi8(b'"' as i8), _mm_set1_epi8(b'\\' as i8));
        let (opener, closer) = (_mm_set1_epi8(b'{' as i8), _mm_set1_epi8(b'}' as i8));
        for (n, lane) in block.chunks_exact(16).enumerate() {
            let bytes = _mm_loadu_si128(lane.as_ptr().cast::<__m128i>());
            let shift = 16 * n;
            masks.quotes |= u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, quote)) as u16) << shift;
            masks.backslashes |=
                u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, backslash)) as u16) << shift;
            let folded = _mm_or_si128(bytes, case);
            masks.openers |= u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(folded, opener)) as u16) << shift;
            masks.closers |= u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(folded, closer)) as u16) << shift;
        }
    }
    masks
}

/// The masks of `block`, a byte at a time (other architectures, and the test of the SSE2 ones).
#[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
fn masks_bytewise(block: &[u8; BLOCK]) -> Masks {
    let mut masks = Masks::default();
    for (i, byte) in block.iter().enumerate() {
        let bit = 1u64 << i;
        match byte {
            b'"' => masks.quotes |= bit,
            b'\\' => masks.backslashes |= bit,
            b'{' | b'[' => masks.openers |= bit,
            b'}' | b']' => masks.closers |= bit,
            _ => {}
        }
    }
    masks
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
fn masks(block: &[u8; BLOCK]) -> Masks {
    masks_bytewise(block)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cassette::model::json_text::tests::json_value;
    use proptest::prelude::*;

    /// Where serde_json ends the value at the start of `doc`.
    fn serde_end(doc: &str) -> usize {
        let mut values = serde_json::Deserializer::from_str(doc).into_iter::<serde::de::IgnoredAny>();
        values.next().unwrap().unwrap();
        values.byte_offset()
    }

    /// Strings of the bytes that decide where a value ends, in runs that cross block boundaries.
    fn tricky_string() -> impl Strategy<Value = String> {
        "[\\\\\"{}\\[\\]a ]{0,300}"
    }

    proptest! {
        #[test]
        fn simd_masks_are_the_bytewise_ones(bytes in prop::collection::vec(
            prop::sample::select(b"\"\\{}[]a \x7b\x5b\xff".to_vec()), BLOCK)) {
            let block: [u8; BLOCK] = bytes.try_into().unwrap();
            prop_assert_eq!(masks(&block), masks_bytewise(&block));
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx512bw") {
                // SAFETY: this CPU has AVX-512BW, as just checked.
                prop_assert_eq!(unsafe { avx512::masks(&block) }, masks_bytewise(&block));
            }
        }

        #[test]
        fn a_value_ends_where_serde_json_ends_it(
            value in json_value("[a-z\"\\\\{}]{1,3}"),
            text in tricky_string(),
            indent in 0usize..130,
            pretty: bool,
        ) {
            for value in [value, serde_json::Value::String(text.clone()), serde_json::json!({"k": [text]})] {
                let json = if pretty { serde_json::to_string_pretty(&value) } else { serde_json::to_string(&value) };
                let json = json.unwrap();
                let doc = format!("{}{json}, \"after\"]", " ".repeat(indent));
                let end = Some(indent + serde_end(&doc[indent..]));
                prop_assert_eq!(value_end(doc.as_bytes(), indent), end, "{}", doc);
                prop_assert_eq!(value_end_with(doc.as_bytes(), indent, masks), end, "SSE2: {}", doc);
            }
        }

        #[test]
        fn a_value_cut_short_has_no_end(text in tricky_string(), cut in 1usize..40) {
            for value in [serde_json::Value::String(text.clone()), serde_json::json!([{"k": text}])] {
                let json = serde_json::to_string(&value).unwrap();
                let cut = &json.as_bytes()[..json.len().saturating_sub(cut)];
                prop_assert_eq!(value_end(cut, 0), None);
                prop_assert_eq!(value_end_with(cut, 0, masks), None);
            }
        }
    }

    #[test]
    fn runs_of_backslashes_across_a_block_boundary() {
        // A run of n backslashes ending just before a quote escapes it when n is odd.
        for start in 0..3 * BLOCK {
            for run in 0..2 * BLOCK {
                let mut doc = String::from("\"");
                doc.push_str(&"a".repeat(start));
                doc.push_str(&"\\".repeat(run));
                doc.push_str("\"x\" ");
                let ends_at_the_quote = 1 + start + run + 1;
                let expected = if run % 2 == 0 { ends_at_the_quote } else { ends_at_the_quote + 2 };
                assert_eq!(value_end(doc.as_bytes(), 0), Some(expected), "{doc}");
                assert_eq!(value_end_with(doc.as_bytes(), 0, masks), Some(expected), "SSE2: {doc}");
            }
        }
    }

    #[test]
    fn scalars_end_at_their_delimiter() {
        assert_eq!(value_end(b"12.5e3, 1", 0), Some(6));
        assert_eq!(value_end(b"[true]", 1), Some(5));
        assert_eq!(value_end(b"null", 0), Some(4));
        assert_eq!(value_end(b"", 0), None);
    }
}
