//! `embody merge`: joins the outputs of `--shard I/N` runs (run/eval JSON lines, recording
//! indexes) into what the unsharded run prints: the same per-seed rows and state hashes, and the
//! aggregates recomputed from them by the same functions. Refuses anything that is not exactly
//! all the shards of one run, each once.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use serde_json::Value;

use super::record::{index_json, IndexEpisode};
use super::shard::ShardInfo;
use super::summary::{self, EpisodeRow, WallClock};

#[derive(Args)]
pub struct MergeArgs {
    /// Shard outputs: what `run`/`eval --json --shard I/N` printed (the file's last JSON line is
    /// read, so tables before it do no harm), or `record --shard`'s index.shard-*.json files.
    #[arg(required = true, num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// Print the merged result as one JSON line (for a recording: its index without the
    /// episode list).
    #[arg(long)]
    pub json: bool,
    /// Recordings: where the merged index goes (default: index.json beside the first shard's).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Overwrite an existing merged index.
    #[arg(long)]
    pub force: bool,
    /// Evaluations: the plot `eval --plot` would have drawn, from the merged result.
    #[arg(long, value_name = "PNG")]
    pub plot: Option<PathBuf>,
}

/// One input file.
struct Part {
    path: PathBuf,
    info: ShardInfo,
    value: Value,
}

pub fn run(a: MergeArgs) -> Result<ExitCode> {
    let mut parts = a
        .files
        .iter()
        .map(|p| read_part(p))
        .collect::<Result<Vec<_>>>()?;
    check_shards(&parts)?;
    parts.sort_by_key(|p| p.info.index);
    let first = &parts[0].value;
    if first.get("episodes").is_some_and(Value::is_array) {
        return merge_index(&a, &parts);
    }
    if a.out.is_some() {
        bail!("--out is for recording indexes; a run's merged JSON goes to stdout (--json)");
    }
    let clock = WallClock {
        wall_s: parts.iter().map(|p| num(&p.value, "wall_s")).sum(),
        threads: parts
            .iter()
            .map(|p| num(&p.value, "threads") as usize)
            .sum(),
    };
    if first.get("families").is_some() {
        let families = first["results"].as_array().map_or(0, Vec::len);
        let baseline = first["baseline"].as_str().map(str::to_string);
        let mut summaries = Vec::new();
        let mut baselines = Vec::new();
        for k in 0..families {
            summaries.push(merge_summary(&parts, |v| &v["results"][k], &clock)?);
            if baseline.is_some() {
                baselines.push(merge_summary(
                    &parts,
                    |v| &v["baseline_results"][k],
                    &clock,
                )?);
            }
        }
        for p in &parts {
            let n = p.value["results"].as_array().map_or(0, Vec::len);
            if n != families || p.value["baseline"] != first["baseline"] {
                bail!(
                    "{} has {n} families and baseline {}; {} has {families} and {}: not shards \
                     of one run",
                    p.path.display(),
                    p.value["baseline"],
                    parts[0].path.display(),
                    first["baseline"]
                );
            }
        }
        let out = summary::compared(baseline.as_deref(), &summaries, &baselines);
        if let Some(png) = &a.plot {
            super::plot::eval_png(png, &summaries, &baselines)?;
            eprintln!("plot: {}", png.display());
        }
        if a.json {
            println!("{}", serde_json::to_string(&out)?);
        } else {
            super::run::print_families(&out);
        }
    } else {
        let merged = merge_summary(&parts, |v| v, &clock)?;
        if let Some(png) = &a.plot {
            super::plot::eval_png(png, std::slice::from_ref(&merged), &[])?;
            eprintln!("plot: {}", png.display());
        }
        if a.json {
            println!("{}", serde_json::to_string(&merged)?);
        } else {
            super::run::print_line(&merged);
        }
    }
    eprintln!(
        "merged {} shards: seeds {} to {}",
        parts.len(),
        parts[0].info.first_seed,
        parts[0].info.first_seed + parts[0].info.episodes.saturating_sub(1)
    );
    Ok(ExitCode::SUCCESS)
}

fn num(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or(0.0)
}

/// Reads a shard's output: a whole JSON file, or the last line of printed output that is a
/// JSON object.
fn read_part(path: &Path) -> Result<Part> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read shard output {}", path.display()))?;
    let value: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(_) => text
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| l.starts_with('{'))
            .and_then(|l| serde_json::from_str(l).ok())
            .with_context(|| {
                format!(
                    "{} holds no JSON object: expected the output of `--json --shard I/N`",
                    path.display()
                )
            })?,
    };
    let info = value.get("shard").cloned().with_context(|| {
        format!(
            "{} is not a shard's output (it has no \"shard\" field): run with --shard I/N",
            path.display()
        )
    })?;
    let info: ShardInfo = serde_json::from_value(info)
        .with_context(|| format!("{}: its \"shard\" field is malformed", path.display()))?;
    if info.count == 0 || info.index >= info.count {
        bail!(
            "{}: shard {}/{} is out of range",
            path.display(),
            info.index,
            info.count
        );
    }
    Ok(Part {
        path: path.to_path_buf(),
        info,
        value,
    })
}

/// All inputs are shards of the same range, each shard exactly once, none missing.
fn check_shards(parts: &[Part]) -> Result<()> {
    let first = &parts[0];
    for p in parts {
        if (p.info.count, p.info.first_seed, p.info.episodes)
            != (first.info.count, first.info.first_seed, first.info.episodes)
        {
            bail!(
                "{} is shard {}/{} of {} episodes from seed {}, but {} is one of {} shards of {} \
                 episodes from seed {}: not shards of one run",
                p.path.display(),
                p.info.index,
                p.info.count,
                p.info.episodes,
                p.info.first_seed,
                first.path.display(),
                first.info.count,
                first.info.episodes,
                first.info.first_seed
            );
        }
    }
    let count = first.info.count;
    let mut seen: Vec<Option<&Path>> = vec![None; count as usize];
    for p in parts {
        let slot = &mut seen[p.info.index as usize];
        if let Some(other) = slot {
            bail!(
                "shard {}/{count} is given twice ({} and {}): overlapping shards",
                p.info.index,
                other.display(),
                p.path.display()
            );
        }
        *slot = Some(&p.path);
    }
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(i, _)| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        bail!(
            "{} of {count} shards missing: {}",
            missing.len(),
            if missing.len() > 20 {
                format!("{} ...", missing[..20].join(", "))
            } else {
                missing.join(", ")
            }
        );
    }
    Ok(())
}

/// Checks that a shard's rows are exactly its seeds, in order.
fn check_seeds(part: &Part, seeds: &[u64]) -> Result<()> {
    let expected = part.info.expected_seeds();
    if seeds != expected.as_slice() {
        let extra: Vec<u64> = seeds
            .iter()
            .filter(|s| !expected.contains(s))
            .copied()
            .take(5)
            .collect();
        let lost: Vec<u64> = expected
            .iter()
            .filter(|s| !seeds.contains(s))
            .copied()
            .take(5)
            .collect();
        bail!(
            "{} (shard {}/{}) should hold seeds {} to {} in order, but holds {} episodes \
             (not its own: {extra:?}; missing: {lost:?})",
            part.path.display(),
            part.info.index,
            part.info.count,
            expected.first().copied().unwrap_or(part.info.first_seed),
            expected.last().copied().unwrap_or(part.info.first_seed),
            seeds.len()
        );
    }
    Ok(())
}

/// Merges one policy-on-one-scenario summary, found in each shard by `pick`.
fn merge_summary(
    parts: &[Part],
    pick: impl Fn(&Value) -> &Value,
    clock: &WallClock,
) -> Result<Value> {
    let head = pick(&parts[0].value);
    let (scenario, policy) = (head["scenario"].clone(), head["policy"].clone());
    let mut rows: Vec<EpisodeRow> = Vec::new();
    for p in parts {
        let s = pick(&p.value);
        if s["scenario"] != scenario || s["policy"] != policy {
            bail!(
                "{} ran {} with {}, {} ran {scenario} with {policy}: not shards of one run",
                p.path.display(),
                s["scenario"],
                s["policy"],
                parts[0].path.display()
            );
        }
        let mine: Vec<EpisodeRow> =
            serde_json::from_value(s["per_episode"].clone()).with_context(|| {
                format!(
                    "{}: no readable \"per_episode\" rows (made by an older embody?)",
                    p.path.display()
                )
            })?;
        let seeds: Vec<u64> = mine.iter().map(|r| r.seed).collect();
        check_seeds(p, &seeds)?;
        rows.extend(mine);
    }
    Ok(summary::summarize(
        scenario.as_str().unwrap_or_default(),
        policy.as_str().unwrap_or_default(),
        &rows,
        clock,
    ))
}

/// The keys of an index that describe the recording rather than its episodes: equal in every
/// shard.
const INDEX_HEAD: [&str; 5] = ["scenario", "scenario_name", "policy", "takeover", "build"];

fn merge_index(a: &MergeArgs, parts: &[Part]) -> Result<ExitCode> {
    let first = &parts[0];
    let head: serde_json::Map<String, Value> = INDEX_HEAD
        .iter()
        .map(|k| (k.to_string(), first.value[*k].clone()))
        .collect();
    let mut episodes: Vec<IndexEpisode> = Vec::new();
    for p in parts {
        for k in INDEX_HEAD {
            if p.value[k] != first.value[k] {
                bail!(
                    "{} has {k} {}, {} has {}: not shards of one recording",
                    p.path.display(),
                    p.value[k],
                    first.path.display(),
                    first.value[k]
                );
            }
        }
        let mine: Vec<IndexEpisode> = serde_json::from_value(p.value["episodes"].clone())
            .with_context(|| format!("{}: its \"episodes\" are malformed", p.path.display()))?;
        let seeds: Vec<u64> = mine.iter().map(|e| e.seed).collect();
        check_seeds(p, &seeds)?;
        episodes.extend(mine);
    }
    let sum = |k: &str| parts.iter().map(|p| num(&p.value, k)).sum::<f64>();
    let index = index_json(
        &Value::Object(head),
        &episodes,
        sum("wall_s"),
        sum("threads") as usize,
        sum("core_s"),
    );
    let out = match &a.out {
        Some(p) => p.clone(),
        None => first
            .path
            .parent()
            .unwrap_or(Path::new("."))
            .join("index.json"),
    };
    if out.exists() && !a.force {
        bail!(
            "{} already exists; pass --force to overwrite it",
            out.display()
        );
    }
    std::fs::write(&out, serde_json::to_string_pretty(&index)?)
        .with_context(|| format!("cannot write {}", out.display()))?;
    println!(
        "merged {} shards: {} episodes ({} successful) into {}",
        parts.len(),
        episodes.len(),
        index["successes"],
        out.display()
    );
    if a.json {
        let mut line = index;
        line.as_object_mut().map(|o| o.remove("episodes"));
        println!("{}", serde_json::to_string(&line)?);
    }
    Ok(ExitCode::SUCCESS)
}
