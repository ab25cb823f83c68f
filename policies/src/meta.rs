//! A model's metadata (`<name>.json` beside `<name>.onnx`): what the network expects and
//! produces, its normalization, scheduler and provenance. Written by policies/train/export.py.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{LoadError, MetaError};
use crate::features::{self, Field, Layout, Normalizer, Stats};
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

fn show(f: &[Field]) -> String {
    f.iter()
        .map(|f| format!("{}:{}", f.name, f.size))
        .collect::<Vec<_>>()
        .join(", ")
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
        let layout = self.layout_checked()?;
        if self.obs.dim != layout.obs_dim() || self.action.dim != features::ACTION_DIM {
            return Err(MetaError::Dims {
                obs: self.obs.dim,
                action: self.action.dim,
                want_obs: layout.obs_dim(),
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

    /// The frame the model's features are in.
    pub fn layout(&self) -> Layout {
        Layout::of(&self.obs.fields, &self.action.fields).unwrap_or(Layout::Base)
    }

    fn layout_checked(&self) -> Result<Layout, MetaError> {
        if let Some(l) = Layout::of(&self.obs.fields, &self.action.fields) {
            return Ok(l);
        }
        // Name the part that matches no layout this runtime builds.
        let layouts = [Layout::Skill, Layout::Base];
        let (what, got, want) = match layouts.iter().find(|l| l.obs_fields() == self.obs.fields) {
            Some(l) => (
                "action",
                show(&self.action.fields),
                show(&l.action_fields()),
            ),
            None => (
                "observation",
                show(&self.obs.fields),
                layouts
                    .iter()
                    .map(|l| show(&l.obs_fields()))
                    .collect::<Vec<_>>()
                    .join("] or ["),
            ),
        };
        Err(MetaError::Layout { what, got, want })
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

    /// What the ONNX graph must give: the predicted noise (`noise_pred`) of a denoiser, or
    /// the predicted clean chunk (`sample_pred`) of a distilled consistency network.
    pub fn output_ports(&self) -> Vec<Port> {
        let name = if self.scheduler.prediction_type == "sample" {
            "sample_pred"
        } else {
            "noise_pred"
        };
        vec![Port {
            name: name.into(),
            shape: vec![
                None,
                Some(self.action.pred_horizon as i64),
                Some(self.action.dim as i64),
            ],
            element: "float32",
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> serde_json::Value {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/table_clearing.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn fields_json(f: &[Field]) -> serde_json::Value {
        serde_json::to_value(f).unwrap()
    }

    #[test]
    fn a_model_in_either_frame_loads_and_a_mixed_one_is_refused_by_part() {
        let v = shipped();
        assert_eq!(
            ModelMeta::from_json_str(&v.to_string()).unwrap().layout(),
            Layout::Base
        );
        // The skill frame's fields, dims and statistics.
        let mut skill = v.clone();
        let d = Layout::Skill.obs_dim();
        skill["obs"]["fields"] = fields_json(&Layout::Skill.obs_fields());
        skill["obs"]["dim"] = d.into();
        skill["action"]["fields"] = fields_json(&Layout::Skill.action_fields());
        skill["normalization"]["obs"] =
            serde_json::json!({"min": vec![-1.0; d], "max": vec![1.0; d]});
        assert_eq!(
            ModelMeta::from_json_str(&skill.to_string())
                .unwrap()
                .layout(),
            Layout::Skill
        );
        // Skill-frame observations with base-frame actions: the action layout is named.
        let mut mixed = skill.clone();
        mixed["action"]["fields"] = fields_json(&Layout::Base.action_fields());
        let e = ModelMeta::from_json_str(&mixed.to_string())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("action layout") && e.contains("ee_target_pos_in_skill"),
            "{e}"
        );
        // An observation layout of neither kind names both the runtime builds.
        let mut other = v.clone();
        other["obs"]["fields"][0]["name"] = "ee_pos_in_world".into();
        let e = ModelMeta::from_json_str(&other.to_string())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("observation layout")
                && e.contains("ee_pos_in_skill")
                && e.contains("ee_pos_in_base"),
            "{e}"
        );
        // The skill frame's fields with the base frame's width.
        let mut dims = skill;
        dims["obs"]["dim"] = 33.into();
        let e = ModelMeta::from_json_str(&dims.to_string())
            .unwrap_err()
            .to_string();
        assert!(e.contains("dims obs 33"), "{e}");
    }
}
