//! Demonstrations as training arrays: the `/embody/policy_sample` records of recorded episodes
//! turned into the very observation and action features the runtime computes (one
//! implementation for training and deployment), written as `.npy` files for the trainer.

use std::io::Write;
use std::path::{Path, PathBuf};

use embody_agent::log::{read_log, SampleRecord, EVENTS_TOPIC, OUTCOME_TOPIC, SAMPLE_TOPIC};
use embody_agent::{
    Action, ChunkSource, Event, EventKind, GripperState, JointState, Observation, Skill,
};
use serde::Serialize;
use thiserror::Error;

use crate::features::{self, Framer, Layout, ACTION_DIM};

#[derive(Debug, Error)]
pub enum DatasetError {
    #[error("{path}: {message}")]
    Log { path: String, message: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("no usable demonstrations in {0}: need successful episodes recorded with policy samples (embody record)")]
    Empty(String),
}

/// What went into a dataset.
#[derive(Clone, Debug, Serialize)]
pub struct DatasetSummary {
    pub episodes: usize,
    pub skipped_failed: usize,
    pub samples: usize,
    /// Of the samples, how many are expert corrections (from correction rounds' logs).
    pub correction_samples: usize,
    pub segments: usize,
    pub logs: Vec<String>,
    pub obs_fields: Vec<features::Field>,
    pub action_fields: Vec<features::Field>,
    pub sample_period_s: f64,
    /// What each segment does (`pick red_cube`, `place red_cube in bin`), by segment index: the
    /// task text of the LeRobot export.
    pub segment_skills: Vec<String>,
}

/// Rows of the dataset, one per policy sample.
#[derive(Default)]
struct Rows {
    obs: Vec<f32>,
    action: Vec<f32>,
    episode: Vec<i64>,
    segment: Vec<i64>,
    segment_skills: Vec<String>,
    /// How many rows are expert corrections.
    corrections: usize,
}

fn log_err(path: &Path, message: impl Into<String>) -> DatasetError {
    DatasetError::Log {
        path: path.display().to_string(),
        message: message.into(),
    }
}

/// Adds one episode's samples; `Ok(false)` when nothing of it is used.
///
/// A demonstration (every chunk from the policy that was recorded, the scripted expert) counts
/// only when the episode succeeded. A correction round's log (a learned policy with the expert
/// taking over, see [`crate::correction`]) contributes the expert's corrections only, each when
/// the skill attempt it finished succeeded: the learned policy's own chunks are not
/// demonstrations.
fn add_episode(
    rows: &mut Rows,
    layout: Layout,
    path: &Path,
    episode: i64,
    next_segment: &mut i64,
) -> Result<bool, DatasetError> {
    let log = read_log(path).map_err(|e| log_err(path, e.to_string()))?;
    let success = log
        .on(OUTCOME_TOPIC)
        .next()
        .and_then(|m| serde_json::from_slice::<serde_json::Value>(&m.data).ok())
        .and_then(|v| v["success"].as_bool())
        .unwrap_or(false);
    let samples = log
        .on(SAMPLE_TOPIC)
        .map(|m| {
            serde_json::from_slice::<SampleRecord>(&m.data).map_err(|e| {
                log_err(
                    path,
                    format!("a policy sample at {} ns: {e}", m.log_time_ns),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    // A failed episode may end before its first sample (a stop at the first chunk).
    if samples.is_empty() && !success {
        return Ok(false);
    }
    if samples.is_empty() {
        return Err(log_err(
            path,
            "has no /embody/policy_sample records (recorded before they existed, or with sampling off)",
        ));
    }
    let corrections = samples.iter().any(|s| s.source == ChunkSource::Correction);
    if !corrections && !success {
        return Ok(false);
    }
    let skill_ends = if corrections {
        log.on(EVENTS_TOPIC)
            .filter_map(|m| serde_json::from_slice::<Event>(&m.data).ok())
            .filter(|e| e.kind == EventKind::SkillEnd)
            .collect()
    } else {
        Vec::new()
    };
    let mut used = false;
    let attempts = attempt_starts(&samples);
    for segment in segments(&samples) {
        // The agent's withdrawal after a failed attempt is no one's demonstration.
        if samples[segment.start].source == ChunkSource::Recovery {
            continue;
        }
        if corrections {
            let first = &samples[segment.start];
            let last = &samples[segment.end - 1];
            if first.source != ChunkSource::Correction
                || !attempt_succeeded(&skill_ends, &last.skill, last.t)
            {
                continue;
            }
        }
        *next_segment += 1;
        rows.segment_skills
            .push(samples[segment.start].skill.to_string());
        // The frame of the attempt this segment belongs to, as the runtime fixes it: from
        // the attempt's first observation, whoever drove then.
        let mut framer = Framer::new(layout);
        let first = &samples[attempts[segment.start]];
        framer
            .observation(&observation_of(first), &first.scene, &first.skill)
            .map_err(|e| log_err(path, format!("sample at t = {}: {e}", first.t)))?;
        for s in &samples[segment] {
            add_sample(rows, &mut framer, s, episode, *next_segment)
                .map_err(|e| log_err(path, format!("sample at t = {}: {e}", s.t)))?;
        }
        used = true;
    }
    Ok(used)
}

/// The samples' segments, as index ranges: a new skill, a gap (a retry after a pause) or a
/// change of who made the chunks starts a new one. Windows never straddle two.
fn segments(samples: &[SampleRecord]) -> Vec<std::ops::Range<usize>> {
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, s) in samples.iter().enumerate() {
        let continues =
            i > 0 && same_attempt(&samples[i - 1], s) && samples[i - 1].source == s.source;
        match out.last_mut() {
            Some(r) if continues => r.end = i + 1,
            _ => out.push(i..i + 1),
        }
    }
    out
}

/// Whether `s` goes on the skill attempt of the sample `p` just before it: the same skill,
/// and no gap (a retry after a pause starts a new attempt).
fn same_attempt(p: &SampleRecord, s: &SampleRecord) -> bool {
    p.skill == s.skill && s.t - p.t < 0.15
}

/// For each sample, the index of the first sample of its skill attempt: like [`segments`], but
/// a hand-over between the learned policy and the expert does not start a new attempt.
fn attempt_starts(samples: &[SampleRecord]) -> Vec<usize> {
    let mut out = Vec::with_capacity(samples.len());
    for (i, s) in samples.iter().enumerate() {
        let start = if i > 0 && same_attempt(&samples[i - 1], s) {
            out[i - 1]
        } else {
            i
        };
        out.push(start);
    }
    out
}

/// Whether the attempt at `skill` that was running at `t` ended in success: the first end of
/// that skill at or after `t`.
fn attempt_succeeded(ends: &[Event], skill: &Skill, t: f64) -> bool {
    ends.iter()
        .find(|e| e.t >= t - 1e-6 && e.skill.as_ref() == Some(skill))
        .is_some_and(|e| e.success == Some(true))
}

/// The observation a sample was recorded from, as far as the features need it.
fn observation_of(s: &SampleRecord) -> Observation {
    Observation {
        stamp: s.t,
        joints: JointState {
            names: Vec::new(),
            position: Vec::new(),
            velocity: Vec::new(),
            effort: Vec::new(),
            stamp: s.t,
        },
        gripper: GripperState {
            width_m: s.gripper_width_m,
            force_n: 0.0,
        },
        ee_in_base: s.ee_in_base,
        camera: None,
        privileged: None,
    }
}

fn add_sample(
    rows: &mut Rows,
    framer: &mut Framer,
    s: &SampleRecord,
    episode: i64,
    segment: i64,
) -> Result<(), crate::error::FeatureError> {
    let f = framer.observation(&observation_of(s), &s.scene, &s.skill)?;
    rows.obs.extend(f);
    rows.action.extend(framer.encode(&Action {
        ee_target_in_base: s.target_in_base,
        gripper_width_m: s.gripper_command_m,
    }));
    rows.episode.push(episode);
    rows.segment.push(segment);
    if s.source == ChunkSource::Correction {
        rows.corrections += 1;
    }
    Ok(())
}

/// The `.mcap` files of a folder and of the folders inside it (one per scene family or DAgger
/// round, say), sorted by path so the dataset's row order does not depend on the file system.
pub fn logs_in(dir: &Path) -> Result<Vec<PathBuf>, DatasetError> {
    let mut logs = Vec::new();
    collect_logs(dir, &mut logs, 0)?;
    logs.sort();
    Ok(logs)
}

/// How deep `logs_in` looks: a family folder inside a data folder, a round inside that.
const MAX_LOG_DEPTH: usize = 4;

fn collect_logs(dir: &Path, logs: &mut Vec<PathBuf>, depth: usize) -> Result<(), DatasetError> {
    let entries = std::fs::read_dir(dir).map_err(|e| log_err(dir, e.to_string()))?;
    for e in entries.filter_map(|e| e.ok()) {
        let path = e.path();
        // `file_type` does not follow links: a link loop cannot make this recurse forever.
        let Ok(kind) = e.file_type() else { continue };
        if kind.is_dir() && depth < MAX_LOG_DEPTH {
            collect_logs(&path, logs, depth + 1)?;
        } else if path.extension().is_some_and(|x| x == "mcap") {
            logs.push(path);
        }
    }
    Ok(())
}

/// Builds `out/{obs,action,episode,segment}.npy` and `out/dataset.json` from the logs, the
/// features in `layout`'s frame.
pub fn build(logs: &[PathBuf], layout: Layout, out: &Path) -> Result<DatasetSummary, DatasetError> {
    let mut rows = Rows::default();
    let mut used = Vec::new();
    let mut skipped = 0;
    let mut segment = -1;
    for path in logs {
        if add_episode(&mut rows, layout, path, used.len() as i64, &mut segment)? {
            used.push(path.display().to_string());
        } else {
            skipped += 1;
        }
    }
    if used.is_empty() {
        return Err(DatasetError::Empty(out.display().to_string()));
    }
    let werr = |p: &Path, e: std::io::Error| DatasetError::Write {
        path: p.display().to_string(),
        source: e,
    };
    std::fs::create_dir_all(out).map_err(|e| werr(out, e))?;
    let n = rows.episode.len();
    write_npy(
        &out.join("obs.npy"),
        "<f4",
        &[n, layout.obs_dim()],
        &f32_bytes(&rows.obs),
    )
    .map_err(|e| werr(out, e))?;
    write_npy(
        &out.join("action.npy"),
        "<f4",
        &[n, ACTION_DIM],
        &f32_bytes(&rows.action),
    )
    .map_err(|e| werr(out, e))?;
    write_npy(
        &out.join("episode.npy"),
        "<i8",
        &[n],
        &i64_bytes(&rows.episode),
    )
    .map_err(|e| werr(out, e))?;
    write_npy(
        &out.join("segment.npy"),
        "<i8",
        &[n],
        &i64_bytes(&rows.segment),
    )
    .map_err(|e| werr(out, e))?;
    let summary = DatasetSummary {
        episodes: used.len(),
        skipped_failed: skipped,
        samples: n,
        correction_samples: rows.corrections,
        segments: (segment + 1) as usize,
        logs: used,
        obs_fields: layout.obs_fields(),
        action_fields: layout.action_fields(),
        sample_period_s: 0.1,
        segment_skills: std::mem::take(&mut rows.segment_skills),
    };
    let json = out.join("dataset.json");
    std::fs::write(
        &json,
        serde_json::to_string_pretty(&summary).unwrap_or_default(),
    )
    .map_err(|e| werr(&json, e))?;
    Ok(summary)
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn i64_bytes(v: &[i64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// NumPy's `.npy` format, version 1.0: magic, a Python-literal header padded to 64 bytes, data.
fn write_npy(path: &Path, descr: &str, shape: &[usize], data: &[u8]) -> std::io::Result<()> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    f.write_all(b"\x93NUMPY\x01\x00")?;
    f.write_all(&(header.len() as u16).to_le_bytes())?;
    f.write_all(header.as_bytes())?;
    f.write_all(data)?;
    f.flush()
}
