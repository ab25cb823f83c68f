//! A model's metadata (`<name>.json` beside `<name>.onnx`): what the network expects and
//! produces, its normalization, scheduler and provenance. Written by policies/train/export.py.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{LoadError, MetaError};
use crate::features::{self, Field, Normalizer, Stats};
use crate::onnx::Port;
use crate::schedule::SchedulerConfig;

pub const FORMAT: &str = "embody-diffusion-policy/1";

/// The longest observation history a model may ask for.
pub const MAX_OBS_HORIZON: usize = 64;
/// The longest chunk a model may predict.
pub const MAX_PRED_HORIZON: usize = 1024;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelMeta {
    pub format: String,
    /// The ONNX file's name, relative to the metadata file.
    pub onnx: String,
    pub opset: u32,
    pub network: NetworkMeta,
    pub obs: ObsMeta,
    pub action: ActionMeta,
    pub normalization: Normalization,
    pub scheduler: SchedulerConfig,
    /// Where the weights came from: the training data's hash, episode counts, losses.
    pub training: serde_json::Value,
    pub onnx_sha256: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkMeta {
    pub kind: String,
    pub down_dims: Vec<usize>,
    pub kernel_size: usize,
    pub n_groups: usize,
    pub step_embed_dim: usize,
    pub parameters: u64,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObsMeta {
    /// To: how many past observations the network sees.
    pub horizon: usize,
    pub dim: usize,
    pub fields: Vec<Field>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionMeta {
    /// Tp: actions predicted per chunk.
    pub pred_horizon: usize,
    /// Ta: actions executed before the next chunk.
    pub exec_horizon: usize,
    /// Seconds between actions.
    pub dt: f64,
    pub dim: usize,
    pub fields: Vec<Field>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Normalization {
    pub obs: Stats,
    pub action: Stats,
}

fn layout_mismatch(what: &'static str, got: &[Field], want: &[Field]) -> Result<(), MetaError> {
    if got == want {
        return Ok(());
    }
    let show = |f: &[Field]| {
        f.iter()
            .map(|f| format!("{}:{}", f.name, f.size))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Err(MetaError::Layout {
        what,
        got: show(got),
        want: show(want),
    })
}

impl ModelMeta {
    /// Reads and checks `<name>.json`; `path` may name the `.json` or the `.onnx`.
    pub fn load(path: &Path) -> Result<(Self, PathBuf), LoadError> {
        let json = if path.extension().is_some_and(|e| e == "onnx") {
            path.with_extension("json")
        } else {
            path.to_path_buf()
        };
        let shown = json.display().to_string();
        let err = |problem: MetaError| LoadError::Metadata {
            path: shown.clone(),
            problem,
        };
        let text = std::fs::read_to_string(&json).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                LoadError::Missing(shown.clone())
            } else {
                err(MetaError::Read(e.to_string()))
            }
        })?;
        let meta = Self::from_json_str(&text).map_err(err)?;
        let onnx = json.with_file_name(&meta.onnx);
        Ok((meta, onnx))
    }

    /// Parses and checks model metadata from JSON text.
    pub fn from_json_str(text: &str) -> Result<Self, MetaError> {
        let meta: ModelMeta =
            serde_json::from_str(text).map_err(|e| MetaError::Json(e.to_string()))?;
        meta.check()?;
        Ok(meta)
    }

    fn check(&self) -> Result<(), MetaError> {
        if self.format != FORMAT {
            return Err(MetaError::Format {
                got: self.format.clone(),
                expected: FORMAT,
            });
        }
        if self.opset < 17 {
            return Err(MetaError::Opset(self.opset.into()));
        }
        layout_mismatch("observation", &self.obs.fields, &features::obs_layout())?;
        layout_mismatch("action", &self.action.fields, &features::action_layout())?;
        if self.obs.dim != features::OBS_DIM || self.action.dim != features::ACTION_DIM {
            return Err(MetaError::Dims {
                obs: self.obs.dim,
                action: self.action.dim,
                want_obs: features::OBS_DIM,
                want_action: features::ACTION_DIM,
            });
        }
        let a = &self.action;
        // Caps keep a crafted file from sizing buffers: real models use a few steps of
        // history and tens of actions per chunk.
        if self.obs.horizon == 0
            || self.obs.horizon > MAX_OBS_HORIZON
            || a.exec_horizon == 0
            || a.exec_horizon > a.pred_horizon
            || a.pred_horizon > MAX_PRED_HORIZON
        {
            return Err(MetaError::Horizons(format!(
                "horizons obs {} / predicted {} / executed {} are not 1 <= To <= {MAX_OBS_HORIZON}, \
                 1 <= Ta <= Tp <= {MAX_PRED_HORIZON}",
                self.obs.horizon, a.pred_horizon, a.exec_horizon
            )));
        }
        if !(a.dt.is_finite() && a.dt > 0.0 && a.dt <= 10.0) {
            return Err(MetaError::Period(a.dt));
        }
        self.scheduler.check()?;
        for (which, stats, dim) in [
            ("obs", &self.normalization.obs, self.obs.dim),
            ("action", &self.normalization.action, self.action.dim),
        ] {
            Normalizer::new(stats, dim)
                .map_err(|problem| MetaError::Normalization { which, problem })?;
        }
        Ok(())
    }

    /// What the ONNX graph must take.
    pub fn input_ports(&self) -> Vec<Port> {
        let tp = self.action.pred_horizon as i64;
        let da = self.action.dim as i64;
        let cond = (self.obs.horizon * self.obs.dim) as i64;
        vec![
            Port {
                name: "sample".into(),
                shape: vec![None, Some(tp), Some(da)],
                element: "float32",
            },
            Port {
                name: "timestep".into(),
                shape: vec![None],
                element: "int64",
            },
            Port {
                name: "global_cond".into(),
                shape: vec![None, Some(cond)],
                element: "float32",
            },
        ]
    }

    /// What the ONNX graph must give.
    pub fn output_ports(&self) -> Vec<Port> {
        vec![Port {
            name: "noise_pred".into(),
            shape: vec![
                None,
                Some(self.action.pred_horizon as i64),
                Some(self.action.dim as i64),
            ],
            element: "float32",
        }]
    }
}
