//! Splitting the locales of a platform into chunks, one per task of a task graph.
//!
//! The default split is the one Mozilla's taskgraph makes today
//! (`taskcluster/gecko_taskgraph/transforms/l10n.py` with `mozbuild/chunkify.py`): the
//! locales sorted, cut into contiguous slices, the first `n mod M` slices one locale longer
//! (`split_evenly`). A graph can therefore hand us the same chunk number it hands its own
//! tasks. `--chunk-by weight` balances by each locale's weight from `locales.toml` instead:
//! still contiguous sorted slices, but a locale goes to the chunk in which the midpoint of
//! its weight falls, so chunks carry about the same work, and adding a locale only moves the
//! boundaries next to it. Either way every locale lands in exactly one chunk and the split
//! is a pure function of the list, the weights and M.

use std::path::Path;

use clap::Args;

use crate::error::{Error, Result};
use crate::locales::Locales;

/// The chunking options shared by `repack` and `list-locales`.
#[derive(Clone, Debug, Default, Args)]
pub struct ChunkArgs {
    /// Which chunk of the platform's locales to take (1-based), with --total-chunks or
    /// --locales-per-chunk.
    #[arg(long, value_name = "N")]
    pub this_chunk: Option<usize>,

    /// Into how many chunks the platform's locales are split.
    #[arg(long, value_name = "M", conflicts_with = "locales_per_chunk")]
    pub total_chunks: Option<usize>,

    /// Split into chunks of this many locales (M = ceil(n / K)), as taskgraph's
    /// locales-per-chunk.
    #[arg(long, value_name = "K")]
    pub locales_per_chunk: Option<usize>,

    /// How chunks are balanced: by count (Mozilla's taskgraph split) or by the weights of
    /// locales.toml.
    #[arg(long, value_enum, default_value_t = ChunkBy::Count)]
    pub chunk_by: ChunkBy,
}

impl ChunkArgs {
    /// The chunk's locales, or `None` when no chunk was asked for.
    pub fn select<'a>(&self, list: &'a Locales, platform: &str) -> Result<Option<Vec<&'a str>>> {
        let usage = |m: String| Error::Usage(m);
        let Some(this) = self.this_chunk else {
            if self.total_chunks.is_some() || self.locales_per_chunk.is_some() {
                return Err(usage("give --this-chunk with --total-chunks".into()));
            }
            return Ok(None);
        };
        let locales = list.weighted_for_platform(platform);
        let total = match (self.total_chunks, self.locales_per_chunk) {
            (Some(total), _) => total,
            (None, Some(per)) => chunks_for(locales.len(), per).map_err(|e| usage(e.0))?,
            (None, None) => {
                return Err(usage(
                    "--this-chunk needs --total-chunks or --locales-per-chunk".into(),
                ));
            }
        };
        chunk(&locales, this, total, self.chunk_by)
            .map(Some)
            .map_err(|e| usage(format!("{} ({} on {platform})", e.0, show(&list.source))))
    }
}

fn show(path: &Path) -> String {
    path.display().to_string()
}

/// How to balance chunks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ChunkBy {
    /// Equal counts, as Mozilla's taskgraph does.
    #[default]
    Count,
    /// Equal total weight (`weight` in locales.toml, default 1).
    Weight,
}

/// Why a chunk request cannot be served (a usage error).
#[derive(Debug, PartialEq, Eq)]
pub struct ChunkError(pub String);

/// Chunk `this` (1-based) of `total` over `locales` (sorted, with their weights).
pub fn chunk<'a>(
    locales: &[(&'a str, u32)],
    this: usize,
    total: usize,
    by: ChunkBy,
) -> Result<Vec<&'a str>, ChunkError> {
    let n = locales.len();
    if total == 0 {
        return Err(ChunkError("--total-chunks must be at least 1".into()));
    }
    if total > n {
        return Err(ChunkError(format!(
            "--total-chunks {total} is more than the {n} locales to split"
        )));
    }
    if this == 0 || this > total {
        return Err(ChunkError(format!(
            "--this-chunk {this} is not between 1 and --total-chunks {total}"
        )));
    }
    let index = this - 1;
    let chosen = match by {
        ChunkBy::Count => {
            // split_evenly: the first n mod M chunks get one more.
            let (base, extra) = (n / total, n % total);
            let start = index * base + index.min(extra);
            let len = base + usize::from(index < extra);
            locales[start..start + len]
                .iter()
                .map(|(l, _)| *l)
                .collect()
        }
        ChunkBy::Weight => {
            let sum: u64 = locales.iter().map(|(_, w)| u64::from(*w)).sum();
            let mut before = 0u64;
            let mut out = Vec::new();
            for (locale, weight) in locales {
                // Twice the midpoint, to stay in integers: chunk = floor(mid * M / sum).
                let mid2 = 2 * before + u64::from(*weight);
                let at = (mid2 * total as u64 / (2 * sum.max(1))).min(total as u64 - 1);
                if at == index as u64 {
                    out.push(*locale);
                }
                before += u64::from(*weight);
            }
            out
        }
    };
    Ok(chosen)
}

/// `ceil(n / per_chunk)`: the number of chunks for `--locales-per-chunk`.
pub fn chunks_for(n: usize, per_chunk: usize) -> Result<usize, ChunkError> {
    if per_chunk == 0 {
        return Err(ChunkError("--locales-per-chunk must be at least 1".into()));
    }
    Ok(n.div_ceil(per_chunk).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("l{i:03}")).collect()
    }

    #[test]
    fn count_chunks_match_taskgraph() {
        // 101 locales in chunks of 5: 21 chunks, 17 of 5 then 4 of 4 (mozilla-formats.md §4).
        let names = names(101);
        let list: Vec<(&str, u32)> = names.iter().map(|n| (n.as_str(), 1)).collect();
        let total = chunks_for(101, 5).unwrap();
        assert_eq!(total, 21);
        let sizes: Vec<usize> = (1..=total)
            .map(|c| chunk(&list, c, total, ChunkBy::Count).unwrap().len())
            .collect();
        assert_eq!(sizes, [vec![5; 17], vec![4; 4]].concat());
        assert_eq!(chunk(&list, 1, total, ChunkBy::Count).unwrap()[0], "l000");
        assert_eq!(
            chunk(&list, 21, total, ChunkBy::Count).unwrap().last(),
            Some(&"l100")
        );
    }

    #[test]
    fn bad_requests_are_usage_errors() {
        let list = [("de", 1), ("fr", 1)];
        for (this, total) in [(1, 0), (0, 1), (3, 2), (1, 3)] {
            assert!(
                chunk(&list, this, total, ChunkBy::Count).is_err(),
                "{this}/{total}"
            );
        }
        assert!(chunks_for(3, 0).is_err());
    }

    #[test]
    fn weights_balance_the_work() {
        // One heavy locale: it gets a chunk of its own.
        let list = [("a", 1), ("b", 1), ("c", 10), ("d", 1), ("e", 1)];
        let chunks: Vec<Vec<&str>> = (1..=3)
            .map(|c| chunk(&list, c, 3, ChunkBy::Weight).unwrap())
            .collect();
        assert_eq!(chunks, [vec!["a", "b"], vec!["c"], vec!["d", "e"]]);
    }

    #[test]
    fn the_real_list_splits_as_taskgraph_would() {
        let list = Locales::built_in();
        let locales = list.weighted_for_platform("linux64");
        // (M, per chunk: its size, first and last locale)
        type Expected<'a> = &'a [(usize, &'a str, &'a str)];
        let table: &[(usize, Expected<'_>)] = &[
            (1, &[(102, "ach", "zh-TW")]),
            (
                5,
                &[
                    (21, "ach", "en-CA"),
                    (21, "en-GB", "hi-IN"),
                    (20, "hr", "mr"),
                    (20, "ms", "skr"),
                    (20, "sl", "zh-TW"),
                ],
            ),
        ];
        for (total, chunks) in table {
            for (i, (len, first, last)) in chunks.iter().enumerate() {
                let got = chunk(&locales, i + 1, *total, ChunkBy::Count).unwrap();
                assert_eq!(
                    (got.len(), got[0], *got.last().unwrap()),
                    (*len, *first, *last)
                );
            }
        }
        for total in [10, 20] {
            let sizes: Vec<usize> = (1..=total)
                .map(|c| chunk(&locales, c, total, ChunkBy::Count).unwrap().len())
                .collect();
            let big = 102 % total;
            let expected: Vec<usize> = (0..total)
                .map(|i| 102 / total + usize::from(i < big))
                .collect();
            assert_eq!(sizes, expected, "M = {total}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn every_locale_lands_in_exactly_one_chunk(
            weights in proptest::collection::vec(1u32..20, 1..120),
            total_seed in 1usize..200,
            by_weight in any::<bool>(),
        ) {
            let names = names(weights.len());
            let list: Vec<(&str, u32)> =
                names.iter().map(String::as_str).zip(weights.iter().copied()).collect();
            let total = 1 + total_seed % list.len();
            let by = if by_weight { ChunkBy::Weight } else { ChunkBy::Count };
            let all: Vec<&str> = (1..=total)
                .flat_map(|c| chunk(&list, c, total, by).unwrap())
                .collect();
            let expected: Vec<&str> = list.iter().map(|(l, _)| *l).collect();
            // Contiguous, in order, each exactly once.
            prop_assert_eq!(&all, &expected);
            // Deterministic.
            prop_assert_eq!(chunk(&list, 1, total, by).unwrap(), chunk(&list, 1, total, by).unwrap());
            if by == ChunkBy::Count {
                let sizes: Vec<usize> =
                    (1..=total).map(|c| chunk(&list, c, total, by).unwrap().len()).collect();
                prop_assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1);
            } else {
                // Balance bound: a chunk's weight is within one locale's weight of the mean.
                let sum: u32 = weights.iter().sum();
                let heaviest = *weights.iter().max().unwrap();
                for c in 1..=total {
                    let w: u32 = chunk(&list, c, total, by)
                        .unwrap()
                        .iter()
                        .map(|l| list.iter().find(|(n, _)| n == l).unwrap().1)
                        .sum();
                    let mean = f64::from(sum) / total as f64;
                    prop_assert!((f64::from(w) - mean).abs() <= f64::from(heaviest) + 1e-9,
                        "chunk {} weight {} mean {}", c, w, mean);
                }
            }
        }
    }
}
