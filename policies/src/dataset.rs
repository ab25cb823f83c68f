//! Demonstrations as training arrays: the `/embody/policy_sample` records of recorded episodes
//! turned into the very observation and action features the runtime computes (one
//! implementation for training and deployment), written as `.npy` files for the trainer.

use std::io::Write;
use std::path::{Path, PathBuf};

use embody_agent::log::{read_log, SampleRecord, OUTCOME_TOPIC, SAMPLE_TOPIC};
use embody_agent::{Action, GripperState, JointState, Observation};
use serde::Serialize;
use thiserror::Error;

use crate::features::{self, ACTION_DIM, OBS_DIM};

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
}

fn log_err(path: &Path, message: impl Into<String>) -> DatasetError {
    DatasetError::Log {
        path: path.display().to_string(),
        message: message.into(),
    }
}

/// Adds one episode's samples; `Ok(false)` when the episode failed and is left out.
fn add_episode(
    rows: &mut Rows,
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
    if !success {
        return Ok(false);
    }
    let mut last: Option<(embody_agent::Skill, f64)> = None;
    let mut any = false;
    for m in log.on(SAMPLE_TOPIC) {
        let s: SampleRecord = serde_json::from_slice(&m.data).map_err(|e| {
            log_err(
                path,
                format!("a policy sample at {} ns: {e}", m.log_time_ns),
            )
        })?;
        // A new skill, or a gap (a retry after a pause), starts a new segment: windows never
        // straddle two.
        let continues = last
            .as_ref()
            .is_some_and(|(skill, t)| *skill == s.skill && s.t - t < 0.15);
        if !continues {
            *next_segment += 1;
            rows.segment_skills.push(s.skill.to_string());
        }
        last = Some((s.skill.clone(), s.t));
        let obs = Observation {
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
        };
        let f = features::observation_features(&obs, &s.scene, &s.skill)
            .map_err(|e| log_err(path, format!("sample at t = {}: {e}", s.t)))?;
        rows.obs.extend(f);
        rows.action.extend(features::action_features(&Action {
            ee_target_in_base: s.target_in_base,
            gripper_width_m: s.gripper_command_m,
        }));
        rows.episode.push(episode);
        rows.segment.push(*next_segment);
        any = true;
    }
    if !any {
        return Err(log_err(
            path,
            "has no /embody/policy_sample records (recorded before they existed, or with sampling off)",
        ));
    }
    Ok(true)
}

/// The `.mcap` files of a folder, sorted.
pub fn logs_in(dir: &Path) -> Result<Vec<PathBuf>, DatasetError> {
    let entries = std::fs::read_dir(dir).map_err(|e| log_err(dir, e.to_string()))?;
    let mut logs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "mcap"))
        .collect();
    logs.sort();
    Ok(logs)
}

/// Builds `out/{obs,action,episode,segment}.npy` and `out/dataset.json` from the logs.
pub fn build(logs: &[PathBuf], out: &Path) -> Result<DatasetSummary, DatasetError> {
    let mut rows = Rows::default();
    let mut used = Vec::new();
    let mut skipped = 0;
    let mut segment = -1;
    for path in logs {
        if add_episode(&mut rows, path, used.len() as i64, &mut segment)? {
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
        &[n, OBS_DIM],
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
        segments: (segment + 1) as usize,
        logs: used,
        obs_fields: features::obs_layout(),
        action_fields: features::action_layout(),
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
