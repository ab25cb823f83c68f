//! A model's metadata (`<name>.json` beside `<name>.onnx`): what the network expects and
//! produces, its normalization, scheduler and provenance. Written by policies/train/export.py.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::LoadError;
use crate::features::{self, Field, Stats};
use crate::onnx::Port;
use crate::schedule::SchedulerConfig;

pub const FORMAT: &str = "embody-diffusion-policy/1";

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

fn layout_mismatch(what: &str, got: &[Field], want: &[Field]) -> Option<String> {
    (got != want).then(|| {
        let show = |f: &[Field]| {
            f.iter()
                .map(|f| format!("{}:{}", f.name, f.size))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "{what} layout is [{}]; this runtime builds [{}]",
            show(got),
            show(want)
        )
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
        let err = |message: String| LoadError::Metadata {
            path: shown.clone(),
            message,
        };
        let text = std::fs::read_to_string(&json).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                LoadError::Missing(shown.clone())
            } else {
                err(e.to_string())
            }
        })?;
        let meta: ModelMeta = serde_json::from_str(&text).map_err(|e| err(e.to_string()))?;
        meta.check().map_err(err)?;
        let onnx = json.with_file_name(&meta.onnx);
        Ok((meta, onnx))
    }

    fn check(&self) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!("format is '{}'; expected '{FORMAT}'", self.format));
        }
        if self.opset < 17 {
            return Err(format!("opset {} is older than 17", self.opset));
        }
        if let Some(m) = layout_mismatch("observation", &self.obs.fields, &features::obs_layout()) {
            return Err(m);
        }
        if let Some(m) = layout_mismatch("action", &self.action.fields, &features::action_layout())
        {
            return Err(m);
        }
        if self.obs.dim != features::OBS_DIM || self.action.dim != features::ACTION_DIM {
            return Err(format!(
                "dims obs {} / action {} disagree with the layout ({} / {})",
                self.obs.dim,
                self.action.dim,
                features::OBS_DIM,
                features::ACTION_DIM
            ));
        }
        let a = &self.action;
        if self.obs.horizon == 0 || a.exec_horizon == 0 || a.exec_horizon > a.pred_horizon {
            return Err(format!(
                "horizons obs {} / predicted {} / executed {} are not 1 <= Ta <= Tp",
                self.obs.horizon, a.pred_horizon, a.exec_horizon
            ));
        }
        if !(a.dt.is_finite() && a.dt > 0.0) {
            return Err(format!("action.dt {} is not a positive period", a.dt));
        }
        self.scheduler.check()
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
