//! MBDIFF10 binary patches: the `patch` members of Mozilla's partial updates.
//!
//! # Layout
//! As Mozilla's updater reads them (`toolkit/mozapps/update/updater/bspatch/bspatch.cpp`,
//! `MBS_ReadHeader` and `MBS_ApplyPatch`). Every integer is big-endian.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | tag `MBDIFF10` |
//! | 8 | 4 | `slen`: length of the old file |
//! | 12 | 4 | `scrc32`: CRC-32 of the old file, bzip2's variant ([`source_crc32`]) |
//! | 16 | 4 | `dlen`: length of the new file |
//! | 20 | 4 | `cblen`: length of the control block, a multiple of 12 |
//! | 24 | 4 | `difflen`: length of the diff block |
//! | 28 | 4 | `extralen`: length of the extra block |
//! | 32 | `cblen` | control triples: `x` u32, `y` u32, `z` i32 |
//! | … | `difflen` | diff block |
//! | … | `extralen` | extra block; the file ends here |
//!
//! The updater refuses a patch whose `slen` and `scrc32` are not its file's. `scrc32` is
//! computed as `updater.cpp` does, with libbz2's `BZ2_crc32Table`: CRC-32/BZIP2 (the
//! polynomial of zlib's CRC-32, not reflected), not zlib's `crc32`.
//!
//! Applying a triple: add `x` bytes of the diff block to `x` bytes of the old file at the
//! current old position (bytewise, modulo 256) and write them, advancing the old position
//! by `x`; copy `y` bytes of the extra block; move the old position by `z`. The blocks are
//! not compressed: the partial MAR xz-compresses the whole patch as one member.
//!
//! # Diffing
//! [`diff`] is Colin Percival's bsdiff 4 algorithm, the one `mbsdiff` runs: a suffix array
//! of the old file (here from the `divsufsort` crate, a port of Yuta Mori's libdivsufsort),
//! then a scan of the new file that looks up each position's longest match in the old file
//! and, where the match is worth a new control triple, extends the previous match forwards
//! and this one backwards (allowing mismatches that the diff block then absorbs). One
//! change: a match of at least [`LONG_MATCH`] bytes is taken at once, which keeps long
//! repetitive runs (zero padding) from costing quadratic time; bsdiff would only take it
//! when it beat the current alignment by more than 8 bytes.
//!
//! Memory: the suffix array takes 4 bytes per old byte, so diffing a 185 MB `libxul.so`
//! holds about 1.1 GB (suffix array, both files) plus the patch. Files of up to
//! `i32::MAX` bytes can be diffed; MAR members are capped at 500 MiB anyway.
//!
//! The new file is scanned in 8 MiB slices side by side ([`diff`]), which costs a few
//! control triples at each slice's start and lets one large file use every core.
//!
//! Patches can be joined ([`join_controls`]): a patch of `old[..a] → new[..b]` followed by one
//! of `old[a..] → new[b..]` is one patch of `old → new` once the first one's last seek moves
//! the old position to `a`. That lets a shared prefix be diffed once for many files.

use crate::{Error, Result};

/// The tag the updater checks.
pub const TAG: &[u8; 8] = b"MBDIFF10";

/// Length of the header before the control block.
pub const HEADER_LEN: usize = 32;

/// Length of one control triple.
pub const CONTROL_LEN: usize = 12;

/// What [`diff`] computes, for caches keyed by it: change it whenever the bytes [`diff`]
/// returns for the same inputs change.
pub const ALGORITHM: &str = "bsdiff4-divsufsort-long4096-slices8m";

/// Matches at least this long are taken at once (see the module documentation).
pub const LONG_MATCH: usize = 4096;

/// Largest file [`diff`] takes (suffix array indices are `i32`).
pub const MAX_LEN: usize = i32::MAX as usize;

/// CRC-32/BZIP2 of `data`: the `scrc32` of a patch for it.
pub fn source_crc32(data: &[u8]) -> u32 {
    const BZIP2: crc::Crc<u32, crc::Table<16>> =
        crc::Crc::<u32, crc::Table<16>>::new(&crc::CRC_32_BZIP2);
    BZIP2.checksum(data)
}

/// One control triple.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Control {
    /// Bytes of the diff block added to the old file (`x`).
    pub add: u32,
    /// Bytes copied from the extra block (`y`).
    pub copy: u32,
    /// Move of the old position (`z`).
    pub seek: i32,
}

/// A patch without its header: what [`diff`] computes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Patch {
    /// The control triples.
    pub controls: Vec<Control>,
    /// The diff block.
    pub diff: Vec<u8>,
    /// The extra block.
    pub extra: Vec<u8>,
}

impl Patch {
    /// The patch as a file, for an old file of `old` bytes.
    pub fn to_bytes(&self, old: &[u8]) -> Result<Vec<u8>> {
        let header = Header::new(
            old,
            new_len(&self.controls),
            &self.controls,
            self.diff.len(),
            self.extra.len(),
        )?;
        let mut out = Vec::with_capacity(
            HEADER_LEN + self.controls.len() * CONTROL_LEN + self.diff.len() + self.extra.len(),
        );
        out.extend_from_slice(&header.to_bytes());
        out.extend_from_slice(&encode_controls(&self.controls));
        out.extend_from_slice(&self.diff);
        out.extend_from_slice(&self.extra);
        Ok(out)
    }
}

/// The patch header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Length of the old file.
    pub old_len: u32,
    /// CRC-32 of the old file.
    pub old_crc32: u32,
    /// Length of the new file.
    pub new_len: u32,
    /// Length of the control block.
    pub control_len: u32,
    /// Length of the diff block.
    pub diff_len: u32,
    /// Length of the extra block.
    pub extra_len: u32,
}

impl Header {
    /// The header of a patch of `old` with these controls and block lengths.
    pub fn new(
        old: &[u8],
        new_len: u64,
        controls: &[Control],
        diff_len: usize,
        extra_len: usize,
    ) -> Result<Header> {
        let field = |what: &str, n: u64| {
            u32::try_from(n).map_err(|_| error(format!("{what} of {n} bytes exceeds 4 GiB")))
        };
        Ok(Header {
            old_len: field("an old file", old.len() as u64)?,
            old_crc32: source_crc32(old),
            new_len: field("a new file", new_len)?,
            control_len: field("a control block", (controls.len() * CONTROL_LEN) as u64)?,
            diff_len: field("a diff block", diff_len as u64)?,
            extra_len: field("an extra block", extra_len as u64)?,
        })
    }

    /// The 32 header bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0; HEADER_LEN];
        out[..8].copy_from_slice(TAG);
        let fields = [
            self.old_len,
            self.old_crc32,
            self.new_len,
            self.control_len,
            self.diff_len,
            self.extra_len,
        ];
        for (i, field) in fields.iter().enumerate() {
            out[8 + 4 * i..12 + 4 * i].copy_from_slice(&field.to_be_bytes());
        }
        out
    }

    /// Reads the header of `patch` and checks that the blocks fill the rest exactly.
    pub fn parse(patch: &[u8]) -> Result<Header> {
        if patch.len() < HEADER_LEN || &patch[..8] != TAG {
            return Err(error("not an MBDIFF10 patch (no MBDIFF10 header)".into()));
        }
        let field = |i: usize| u32::from_be_bytes(patch[8 + 4 * i..12 + 4 * i].try_into().unwrap());
        let header = Header {
            old_len: field(0),
            old_crc32: field(1),
            new_len: field(2),
            control_len: field(3),
            diff_len: field(4),
            extra_len: field(5),
        };
        let blocks = u64::from(header.control_len)
            + u64::from(header.diff_len)
            + u64::from(header.extra_len);
        if blocks != (patch.len() - HEADER_LEN) as u64 {
            return Err(error(format!(
                "the header's blocks take {blocks} bytes but {} follow it",
                patch.len() - HEADER_LEN
            )));
        }
        if !(header.control_len as usize).is_multiple_of(CONTROL_LEN) {
            return Err(error(format!(
                "a control block of {} bytes is not made of 12-byte triples",
                header.control_len
            )));
        }
        Ok(header)
    }
}

/// The control block's bytes.
pub fn encode_controls(controls: &[Control]) -> Vec<u8> {
    let mut out = Vec::with_capacity(controls.len() * CONTROL_LEN);
    for c in controls {
        out.extend_from_slice(&c.add.to_be_bytes());
        out.extend_from_slice(&c.copy.to_be_bytes());
        out.extend_from_slice(&c.seek.to_be_bytes());
    }
    out
}

/// How many bytes `controls` write.
pub fn new_len(controls: &[Control]) -> u64 {
    controls
        .iter()
        .map(|c| u64::from(c.add) + u64::from(c.copy))
        .sum()
}

/// The controls of one patch of `old_head ‖ old_tail → new_head ‖ new_tail` from a patch
/// of `old_head → new_head` (`head`, `old_head` being `head_old_len` bytes) and one of
/// `old_tail → new_tail` (`tail`): `head`'s last seek moves the old position to the start of
/// `old_tail`, where `tail`'s relative moves begin. The diff and extra blocks are `head`'s
/// followed by `tail`'s.
pub fn join_controls(
    head: &[Control],
    head_old_len: u64,
    tail: &[Control],
) -> Result<Vec<Control>> {
    let mut out = head.to_vec();
    // Where the old position stands after `head`.
    let end: i64 = head
        .iter()
        .map(|c| i64::from(c.add) + i64::from(c.seek))
        .sum();
    let to_tail = head_old_len as i64 - end;
    match out.last_mut() {
        Some(last) => {
            let seek = i64::from(last.seek) + to_tail;
            last.seek = i32::try_from(seek)
                .map_err(|_| error(format!("a seek of {seek} bytes does not fit a control")))?;
        }
        None => out.push(Control {
            add: 0,
            copy: 0,
            seek: i32::try_from(to_tail)
                .map_err(|_| error(format!("a seek of {to_tail} bytes does not fit a control")))?,
        }),
    }
    out.extend_from_slice(tail);
    Ok(out)
}

/// Applies `patch` to `old` as the updater does, checking the old file's length and CRC-32
/// first and every triple's bounds; returns the new file.
pub fn apply(old: &[u8], patch: &[u8]) -> Result<Vec<u8>> {
    let header = Header::parse(patch)?;
    let crc = source_crc32(old);
    if old.len() as u64 != u64::from(header.old_len) || crc != header.old_crc32 {
        return Err(error(format!(
            "the patch is for an old file of {} bytes with CRC-32 {:08x}, not this one ({} \
             bytes, {:08x})",
            header.old_len,
            header.old_crc32,
            old.len(),
            crc
        )));
    }
    let controls_end = HEADER_LEN + header.control_len as usize;
    let diff_end = controls_end + header.diff_len as usize;
    let (mut diff, mut extra) = (&patch[controls_end..diff_end], &patch[diff_end..]);
    let mut out = Vec::with_capacity(header.new_len as usize);
    let mut pos = 0usize;
    for triple in patch[HEADER_LEN..controls_end].chunks_exact(CONTROL_LEN) {
        let add = u32::from_be_bytes(triple[0..4].try_into().unwrap()) as usize;
        let copy = u32::from_be_bytes(triple[4..8].try_into().unwrap()) as usize;
        let seek = i32::from_be_bytes(triple[8..12].try_into().unwrap());
        if add > old.len() - pos || add > diff.len() || copy > extra.len() {
            return Err(error(format!(
                "a control triple ({add}, {copy}, {seek}) reaches past its blocks"
            )));
        }
        out.extend(
            diff[..add]
                .iter()
                .zip(&old[pos..pos + add])
                .map(|(d, o)| d.wrapping_add(*o)),
        );
        (diff, pos) = (&diff[add..], pos + add);
        out.extend_from_slice(&extra[..copy]);
        extra = &extra[copy..];
        pos = pos
            .checked_add_signed(seek as isize)
            .filter(|&p| p <= old.len())
            .ok_or_else(|| error(format!("a seek of {seek} leaves the old file")))?;
    }
    if out.len() as u64 != u64::from(header.new_len) || !diff.is_empty() || !extra.is_empty() {
        return Err(error(format!(
            "the patch writes {} bytes of the {} its header says, leaving {} diff and {} extra \
             bytes unused",
            out.len(),
            header.new_len,
            diff.len(),
            extra.len()
        )));
    }
    Ok(out)
}

/// The bsdiff patch of `old → new` (see the module documentation).
///
/// The new file is scanned in slices of [`SCAN_SLICE`] bytes, side by side on rayon's
/// threads, each against the whole old file; the slices' patches are joined, each starting
/// from old position 0 as a scan does. The slices depend only on the new file's length, so
/// the patch is the same for any thread count.
pub fn diff(old: &[u8], new: &[u8]) -> Result<Patch> {
    diff_in_slices(old, new, SCAN_SLICE)
}

fn diff_in_slices(old: &[u8], new: &[u8], slice_len: usize) -> Result<Patch> {
    use rayon::prelude::*;
    if old.len() > MAX_LEN || new.len() > MAX_LEN {
        return Err(error(format!(
            "cannot diff files over {MAX_LEN} bytes ({} → {})",
            old.len(),
            new.len()
        )));
    }
    if old.is_empty() {
        let mut patch = Patch::default();
        if !new.is_empty() {
            patch.controls.push(Control {
                add: 0,
                copy: new.len() as u32,
                seek: 0,
            });
            patch.extra.extend_from_slice(new);
        }
        return Ok(patch);
    }
    let index = Index::new(old);
    let slices: Vec<&[u8]> = new.chunks(slice_len).collect();
    let patches = slices
        .par_iter()
        .map(|slice| scan(&index, old, slice))
        .collect::<Result<Vec<Patch>>>()?;
    let mut joined = Patch::default();
    for patch in patches {
        joined.controls = join_controls(&joined.controls, 0, &patch.controls)?;
        joined.diff.extend_from_slice(&patch.diff);
        joined.extra.extend_from_slice(&patch.extra);
    }
    // A lone leading seek to 0 (an empty first slice) changes nothing.
    if joined.controls.first() == Some(&Control::default()) {
        joined.controls.remove(0);
    }
    Ok(joined)
}

/// How much of the new file one scan covers (see [`diff`]).
pub const SCAN_SLICE: usize = 8 << 20;

/// The suffix array of the old file, with the range of suffixes starting with each pair of
/// bytes, so that a search starts 16 steps down.
struct Index {
    sa: Vec<i32>,
    /// `buckets[k]..buckets[k + 1]`: the suffixes whose first two bytes are `k` (big-endian);
    /// a one-byte suffix counts as followed by a zero byte, where it sorts.
    buckets: Vec<u32>,
}

impl Index {
    fn new(old: &[u8]) -> Index {
        let mut sa = vec![0i32; old.len()];
        divsufsort::sort_in_place(old, &mut sa);
        let mut counts = vec![0u32; 1 << 16];
        for &start in &sa {
            counts[key(old, start as usize)] += 1;
        }
        let mut buckets = Vec::with_capacity((1 << 16) + 1);
        let mut total = 0u32;
        buckets.push(0);
        for count in counts {
            total += count;
            buckets.push(total);
        }
        Index { sa, buckets }
    }

    /// The old position whose suffix shares the longest prefix with `new`, and that length.
    fn search(&self, old: &[u8], new: &[u8]) -> (usize, usize) {
        let sa = &self.sa;
        let (mut start, mut end) = (0, sa.len() - 1);
        if new.len() >= 2 {
            let k = key(new, 0);
            let (from, to) = (self.buckets[k] as usize, self.buckets[k + 1] as usize);
            if from < to {
                (start, end) = (from, to - 1);
            }
        }
        while end - start >= 2 {
            let mid = start + (end - start) / 2;
            let suffix = &old[sa[mid] as usize..];
            let n = suffix.len().min(new.len());
            if suffix[..n] < new[..n] {
                start = mid;
            } else {
                end = mid;
            }
        }
        let (a, b) = (sa[start] as usize, sa[end] as usize);
        let (len_a, len_b) = (match_len(&old[a..], new), match_len(&old[b..], new));
        if len_a > len_b {
            (a, len_a)
        } else {
            (b, len_b)
        }
    }
}

/// The first two bytes at `at` as a bucket number.
fn key(data: &[u8], at: usize) -> usize {
    (usize::from(data[at]) << 8) | usize::from(data.get(at + 1).copied().unwrap_or(0))
}

/// bsdiff's scan of `new` against the indexed `old`, from old position 0.
fn scan(index: &Index, old: &[u8], new: &[u8]) -> Result<Patch> {
    let mut patch = Patch::default();
    let (old_len, new_len) = (old.len() as isize, new.len() as isize);
    let at = |i: isize| i as usize;
    let (mut scan, mut len, mut pos) = (0isize, 0isize, 0isize);
    let (mut last_scan, mut last_pos, mut last_offset) = (0isize, 0isize, 0isize);
    while scan < new_len {
        let mut old_score = 0isize;
        scan += len;
        let mut scsc = scan;
        while scan < new_len {
            let (found, found_len) = index.search(old, &new[at(scan)..]);
            (pos, len) = (found as isize, found_len as isize);
            while scsc < scan + len {
                let o = scsc + last_offset;
                if (0..old_len).contains(&o) && old[at(o)] == new[at(scsc)] {
                    old_score += 1;
                }
                scsc += 1;
            }
            if (len == old_score && len != 0) || len > old_score + 8 || len as usize >= LONG_MATCH {
                break;
            }
            let o = scan + last_offset;
            if (0..old_len).contains(&o) && old[at(o)] == new[at(scan)] {
                old_score -= 1;
            }
            scan += 1;
        }
        if len == old_score && scan != new_len {
            continue;
        }
        // Extend the previous match forwards…
        let (mut s, mut best, mut len_f) = (0isize, 0isize, 0isize);
        let mut i = 0;
        while last_scan + i < scan && last_pos + i < old_len {
            if old[at(last_pos + i)] == new[at(last_scan + i)] {
                s += 1;
            }
            i += 1;
            if s * 2 - i > best * 2 - len_f {
                (best, len_f) = (s, i);
            }
        }
        // …and this one backwards.
        let mut len_b = 0isize;
        if scan < new_len {
            let (mut s, mut best) = (0isize, 0isize);
            let mut i = 1;
            while scan >= last_scan + i && pos >= i {
                if old[at(pos - i)] == new[at(scan - i)] {
                    s += 1;
                }
                if s * 2 - i > best * 2 - len_b {
                    (best, len_b) = (s, i);
                }
                i += 1;
            }
        }
        // Where they overlap, split at the best point.
        if last_scan + len_f > scan - len_b {
            let overlap = (last_scan + len_f) - (scan - len_b);
            let (mut s, mut best, mut len_s) = (0isize, 0isize, 0isize);
            for i in 0..overlap {
                if new[at(last_scan + len_f - overlap + i)]
                    == old[at(last_pos + len_f - overlap + i)]
                {
                    s += 1;
                }
                if new[at(scan - len_b + i)] == old[at(pos - len_b + i)] {
                    s -= 1;
                }
                if s > best {
                    (best, len_s) = (s, i + 1);
                }
            }
            len_f += len_s - overlap;
            len_b -= len_s;
        }
        let new_part = &new[at(last_scan)..at(last_scan + len_f)];
        let old_part = &old[at(last_pos)..at(last_pos + len_f)];
        patch.diff.extend(
            new_part
                .iter()
                .zip(old_part)
                .map(|(n, o)| n.wrapping_sub(*o)),
        );
        let extra_end = scan - len_b;
        patch
            .extra
            .extend_from_slice(&new[at(last_scan + len_f)..at(extra_end)]);
        patch.controls.push(Control {
            add: len_f as u32,
            copy: (extra_end - (last_scan + len_f)) as u32,
            seek: i32::try_from((pos - len_b) - (last_pos + len_f))
                .map_err(|_| error("a seek does not fit a control".into()))?,
        });
        last_scan = scan - len_b;
        last_pos = pos - len_b;
        last_offset = pos - scan;
    }
    Ok(patch)
}

/// How many leading bytes `a` and `b` share.
fn match_len(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut i = 0;
    while i + 8 <= n {
        let x = u64::from_le_bytes(a[i..i + 8].try_into().unwrap());
        let y = u64::from_le_bytes(b[i..i + 8].try_into().unwrap());
        if x != y {
            return i + ((x ^ y).trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + a[i..]
        .iter()
        .zip(&b[i..])
        .take_while(|(x, y)| x == y)
        .count()
}

fn error(reason: String) -> Error {
    Error::MbDiff { reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Deterministic pseudo-random bytes.
    fn noise(seed: u64, n: usize) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    fn round_trip(old: &[u8], new: &[u8]) -> Vec<u8> {
        let patch = diff(old, new).unwrap();
        let bytes = patch.to_bytes(old).unwrap();
        assert_eq!(apply(old, &bytes).unwrap(), new);
        bytes
    }

    #[test]
    fn the_source_checksum_is_bzip2s_crc32() {
        // The check value of CRC-32/BZIP2; zlib's CRC-32 of the same bytes is cbf43926.
        assert_eq!(source_crc32(b"123456789"), 0xfc89_1918);
    }

    #[test]
    fn similar_files_give_small_patches() {
        let old = noise(1, 200_000);
        let mut new = old.clone();
        new[1000..1010].copy_from_slice(b"0123456789");
        new.splice(50_000..50_000, noise(2, 300));
        new.drain(120_000..121_000);
        let bytes = round_trip(&old, &new);
        let patch = diff(&old, &new).unwrap();
        // The changed bytes go to the extra block, the rest to (mostly zero) diff bytes.
        assert!(patch.extra.len() < 2_000, "{}", patch.extra.len());
        assert!(bytes.len() < new.len() + 200);
    }

    #[test]
    fn edge_cases_round_trip() {
        round_trip(b"", b"");
        round_trip(b"", b"new");
        round_trip(b"old", b"");
        round_trip(b"a", b"a");
        round_trip(&[0; 100_000], &[0; 100_001]);
        let mut zeros = vec![0u8; 50_000];
        zeros.extend(noise(3, 1000));
        let mut shifted = vec![0u8; 20_000];
        shifted.extend(noise(3, 1000));
        shifted.extend(vec![0u8; 30_000]);
        round_trip(&zeros, &shifted);
    }

    #[test]
    fn joined_patches_apply_to_the_joined_files() {
        let old_head = noise(4, 30_000);
        let mut new_head = old_head.clone();
        new_head.truncate(25_000);
        new_head.extend(noise(5, 100));
        let old_tail = noise(6, 5_000);
        let mut new_tail = noise(7, 2_000);
        new_tail.extend_from_slice(&old_tail[1000..4000]);
        let (head, tail) = (
            diff(&old_head, &new_head).unwrap(),
            diff(&old_tail, &new_tail).unwrap(),
        );
        let controls =
            join_controls(&head.controls, old_head.len() as u64, &tail.controls).unwrap();
        let joined = Patch {
            controls,
            diff: [head.diff, tail.diff].concat(),
            extra: [head.extra, tail.extra].concat(),
        };
        let old = [old_head.as_slice(), &old_tail].concat();
        let new = [new_head.as_slice(), &new_tail].concat();
        assert_eq!(apply(&old, &joined.to_bytes(&old).unwrap()).unwrap(), new);
        // An empty head still moves the old position to the tail.
        let empty = join_controls(&[], 10, &tail.controls).unwrap();
        let patch = Patch {
            controls: empty,
            diff: diff(&old_tail, &new_tail).unwrap().diff,
            extra: diff(&old_tail, &new_tail).unwrap().extra,
        };
        let old = [&[9u8; 10][..], &old_tail].concat();
        assert_eq!(
            apply(&old, &patch.to_bytes(&old).unwrap()).unwrap(),
            new_tail
        );
    }

    #[test]
    fn patches_for_other_bytes_or_with_bad_bounds_are_refused() {
        let old = noise(8, 1000);
        let new = noise(9, 1000);
        let bytes = round_trip(&old, &new);
        let mut other = old.clone();
        other[0] ^= 1;
        let e = apply(&other, &bytes).unwrap_err().to_string();
        assert!(e.contains("CRC-32"), "{e}");
        assert!(apply(&old, &bytes[..bytes.len() - 1]).is_err());
        assert!(apply(&old, b"BSDIFF40").is_err());
        // A seek out of the old file.
        let patch = Patch {
            controls: vec![Control {
                add: 0,
                copy: 1,
                seek: -1,
            }],
            diff: vec![],
            extra: vec![7],
        };
        let e = apply(&old, &patch.to_bytes(&old).unwrap())
            .unwrap_err()
            .to_string();
        assert!(e.contains("leaves the old file"), "{e}");
    }

    #[test]
    fn slices_join_into_one_patch() {
        let old = noise(10, 100_000);
        let mut new = old.clone();
        new.splice(30_000..30_000, noise(11, 5_000));
        new[70_000..70_100].fill(0);
        for slice in [1, 777, 4096, 50_000] {
            let patch = diff_in_slices(&old, &new, slice).unwrap();
            assert_eq!(
                apply(&old, &patch.to_bytes(&old).unwrap()).unwrap(),
                new,
                "{slice}"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_pair_round_trips(
            old in proptest::collection::vec(0u8..4, 0..2000),
            edits in proptest::collection::vec((0usize..2000, 0u8..4), 0..20),
        ) {
            let mut new = old.clone();
            for (at, byte) in edits {
                let at = at.min(new.len());
                new.insert(at, byte);
            }
            let patch = diff(&old, &new).unwrap();
            prop_assert_eq!(apply(&old, &patch.to_bytes(&old).unwrap()).unwrap(), new);
        }
    }
}
