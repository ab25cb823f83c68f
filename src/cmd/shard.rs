//! `--shard I/N`: which part of a seed range one process runs, so that N processes (Ray tasks,
//! Kubernetes Indexed Job pods, Slurm array tasks) together run exactly the unsharded range.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Shard `index` of `count` (0-based, as `JOB_COMPLETION_INDEX` and `SLURM_ARRAY_TASK_ID` with
/// `--array=0-(N-1)` number them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("'{s}' is not a shard: write I/N, e.g. 0/4"))?;
        let index: u64 = i
            .trim()
            .parse()
            .map_err(|_| format!("shard index '{i}' is not a whole number"))?;
        let count: u64 = n
            .trim()
            .parse()
            .map_err(|_| format!("shard count '{n}' is not a whole number"))?;
        if count == 0 {
            return Err("the shard count must be at least 1".into());
        }
        if index >= count {
            return Err(format!(
                "shard index {index} is out of range for {count} shards (0 to {})",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// This shard's seeds: a contiguous block of `seeds`, the blocks' sizes differing by at most
    /// one, so shard 3/10 of seeds 0-999 runs 300-399. It depends on nothing but (index, count,
    /// the range), which is what makes a lost shard re-runnable anywhere.
    pub fn part<T: Copy>(&self, seeds: &[T]) -> Vec<T> {
        let (start, end) = self.bounds(seeds.len() as u64);
        seeds[start as usize..end as usize].to_vec()
    }

    /// Start and end (exclusive) of this shard's block in a range of `len` items.
    pub fn bounds(&self, len: u64) -> (u64, u64) {
        let base = len / self.count;
        let extra = len % self.count;
        // The first `extra` shards take one more.
        let start = self.index * base + self.index.min(extra);
        let size = base + u64::from(self.index < extra);
        (start, start + size)
    }

    /// The file name part for per-shard outputs: `shard-0003-of-0010`.
    pub fn tag(&self) -> String {
        format!("shard-{:04}-of-{:04}", self.index, self.count)
    }
}

/// What a shard's output records about the run it is part of, so `embody merge` can check that
/// its inputs are all the shards of one run, each once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardInfo {
    pub index: u64,
    pub count: u64,
    /// The unsharded run's first seed and number of episodes.
    pub first_seed: u64,
    pub episodes: u64,
}

impl ShardInfo {
    pub fn new(shard: Shard, first_seed: u64, episodes: u64) -> Self {
        ShardInfo {
            index: shard.index,
            count: shard.count,
            first_seed,
            episodes,
        }
    }

    pub fn shard(&self) -> Shard {
        Shard {
            index: self.index,
            count: self.count,
        }
    }

    /// The seeds this shard should hold.
    pub fn expected_seeds(&self) -> Vec<u64> {
        let (start, end) = self.shard().bounds(self.episodes);
        (self.first_seed + start..self.first_seed + end).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_the_range_once_in_order() {
        for len in [0u64, 1, 7, 10, 101] {
            for count in 1..=12u64 {
                let seeds: Vec<u64> = (100..100 + len).collect();
                let mut joined = Vec::new();
                for index in 0..count {
                    let part = Shard { index, count }.part(&seeds);
                    assert!(part.len() as u64 <= len / count + 1);
                    assert!(part.len() as u64 >= len / count);
                    joined.extend(part);
                }
                assert_eq!(joined, seeds, "len {len}, {count} shards");
            }
        }
    }

    #[test]
    fn parses_and_refuses() {
        assert_eq!("2/5".parse::<Shard>(), Ok(Shard { index: 2, count: 5 }));
        assert!("5/5".parse::<Shard>().unwrap_err().contains("out of range"));
        assert!("0/0".parse::<Shard>().unwrap_err().contains("at least 1"));
        assert!("a/2".parse::<Shard>().unwrap_err().contains("index"));
        assert!("3".parse::<Shard>().unwrap_err().contains("I/N"));
    }
}
