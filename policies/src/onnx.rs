//! ONNX Runtime: finding the shared library, one environment per process, and the denoiser
//! session with its input and output shapes checked against the model's metadata.
//!
//! ort is built with `load-dynamic`: nothing is linked or downloaded at build time, and the
//! library (`libonnxruntime.so.1.31.x` from the PyPI `onnxruntime` wheel, or `onnxruntime-gpu`
//! for CUDA) is loaded when the first model is.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::TensorRef;

use crate::error::{InferenceError, LoadError};

/// The environment variable ort itself reads; honoured here with a checked path instead.
pub const ORT_DYLIB_ENV: &str = "ORT_DYLIB_PATH";

/// Where the ONNX Runtime library is looked for, in order.
pub const SEARCH_ORDER: &str = "the --ort-lib flag, then $ORT_DYLIB_PATH, then the onnxruntime \
wheel in $VIRTUAL_ENV, then in a .venv beside the working directory or the executable (or any \
folder above them), then in embody's cache (venv in $EMBODY_CACHE_DIR, else \
$XDG_CACHE_HOME/embody, else ~/.cache/embody)";

/// embody's cache folder: `$EMBODY_CACHE_DIR`, else `$XDG_CACHE_HOME/embody`, else
/// `~/.cache/embody`; `None` when none of them is set.
pub fn cache_dir() -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("EMBODY_CACHE_DIR")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("embody")))
        .or_else(|| var("HOME").map(|d| d.join(".cache").join("embody")))
}

/// The virtual environment in embody's cache that holds the onnxruntime wheel when embody
/// installed it itself.
pub fn cache_venv() -> Option<PathBuf> {
    cache_dir().map(|d| d.join("venv"))
}

/// Which device runs the network.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Device {
    #[default]
    Cpu,
    /// CUDA execution provider; an error (never a silent CPU fallback) when it cannot start.
    Cuda,
}

impl std::str::FromStr for Device {
    type Err = crate::error::UnknownDevice;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda),
            _ => Err(crate::error::UnknownDevice(s.to_string())),
        }
    }
}

/// How to run a model.
#[derive(Clone, Debug)]
pub struct RuntimeOptions {
    /// The ONNX Runtime library; searched for (see [`SEARCH_ORDER`]) when `None`.
    pub library: Option<PathBuf>,
    /// Threads inside one operator. One is fastest for this batch-1 network on a small CPU
    /// (measured by `embody bench policy`); more helps bigger networks.
    pub intra_threads: usize,
    pub device: Device,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            library: None,
            intra_threads: 1,
            device: Device::Cpu,
        }
    }
}

/// `libonnxruntime.so*` in an onnxruntime wheel installed in the virtual environment `venv`.
fn in_venv(venv: &Path) -> Option<PathBuf> {
    let lib = venv.join("lib");
    let mut pythons: Vec<PathBuf> = std::fs::read_dir(&lib)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("python"))
        })
        .collect();
    pythons.sort();
    for py in pythons {
        let capi = py.join("site-packages/onnxruntime/capi");
        let Ok(entries) = std::fs::read_dir(&capi) else {
            continue;
        };
        let mut libs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("libonnxruntime.so"))
            })
            .collect();
        libs.sort();
        if let Some(l) = libs.pop() {
            return Some(l);
        }
    }
    None
}

/// The virtual environments embody looks in, in order: `$VIRTUAL_ENV`, a `.venv` in the working
/// directory or beside the executable (or any folder above them), then embody's cache.
pub fn venv_search_order() -> Vec<PathBuf> {
    let mut venvs: Vec<PathBuf> = Vec::new();
    if let Some(v) = std::env::var_os("VIRTUAL_ENV").filter(|v| !v.is_empty()) {
        venvs.push(PathBuf::from(v));
    }
    let mut starts = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        starts.push(cwd);
    }
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        starts.push(dir);
    }
    for s in starts {
        venvs.extend(s.ancestors().map(|a| a.join(".venv")));
    }
    venvs.extend(cache_venv());
    venvs
}

/// Finds the ONNX Runtime library; the error says where it looked and how to get it.
pub fn find_library(explicit: Option<&Path>) -> Result<PathBuf, LoadError> {
    let checked = |p: PathBuf, from: &str| {
        if p.is_file() {
            Ok(p)
        } else {
            Err(LoadError::RuntimeMissing(format!(
                "{} (from {from}) is not a file",
                p.display()
            )))
        }
    };
    if let Some(p) = explicit {
        return checked(p.to_path_buf(), "--ort-lib");
    }
    if let Some(p) = std::env::var_os(ORT_DYLIB_ENV).filter(|v| !v.is_empty()) {
        return checked(PathBuf::from(p), ORT_DYLIB_ENV);
    }
    let venvs = venv_search_order();
    for v in &venvs {
        if let Some(lib) = in_venv(v) {
            return Ok(lib);
        }
    }
    Err(LoadError::RuntimeMissing(format!(
        "no ONNX Runtime library found; looked at {SEARCH_ORDER}. embody installs the \
         onnxruntime wheel into its cache when it runs a model (unless EMBODY_NO_INSTALL=1); \
         scripts/setup.sh installs it into .venv; or point {ORT_DYLIB_ENV} at libonnxruntime.so"
    )))
}

/// The process's one ONNX Runtime environment and the library it was loaded from.
static ENVIRONMENT: OnceLock<Mutex<Option<(PathBuf, ort::environment::Environment)>>> =
    OnceLock::new();

/// Loads the library and creates the environment once; a second, different library is an error
/// (a process can hold only one).
fn ensure_environment(library: &Path) -> Result<ort::environment::Environment, LoadError> {
    let cell = ENVIRONMENT.get_or_init(|| Mutex::new(None));
    let mut guard = cell.lock().unwrap_or_else(|p| p.into_inner());
    let canonical = library
        .canonicalize()
        .unwrap_or_else(|_| library.to_path_buf());
    if let Some((loaded, env)) = guard.as_ref() {
        if *loaded != canonical {
            return Err(LoadError::RuntimeMissing(format!(
                "ONNX Runtime is already loaded from {}; cannot load {} in the same process",
                loaded.display(),
                canonical.display()
            )));
        }
        return Ok(env.clone());
    }
    let env = ort::init_from(&canonical)
        .map_err(|e| {
            LoadError::RuntimeMissing(format!(
                "{} could not be loaded as ONNX Runtime: {e}",
                canonical.display()
            ))
        })?
        .with_name("embody")
        .build()
        .map_err(|e| LoadError::RuntimeMissing(format!("ONNX Runtime environment: {e}")))?;
    *guard = Some((canonical, env.clone()));
    Ok(env)
}

/// The shape a graph input or output must have; `None` is a dynamic (batch) dimension.
#[derive(Clone, Debug)]
pub struct Port {
    pub name: String,
    pub shape: Vec<Option<i64>>,
    pub element: &'static str,
}

fn describe(shape: &[i64]) -> String {
    let dims: Vec<String> = shape
        .iter()
        .map(|d| {
            if *d < 0 {
                "batch".to_string()
            } else {
                d.to_string()
            }
        })
        .collect();
    format!("[{}]", dims.join(", "))
}

fn describe_want(shape: &[Option<i64>]) -> String {
    describe(&shape.iter().map(|d| d.unwrap_or(-1)).collect::<Vec<_>>())
}

/// The denoiser network in an ONNX Runtime session.
pub struct Denoiser {
    session: Session,
    sample_len: usize,
    pred_horizon: usize,
    action_dim: usize,
    cond_len: usize,
    /// The output's name (from the metadata, checked against the graph).
    output: String,
    path: PathBuf,
}

impl Denoiser {
    /// Opens `onnx` and checks its ports against `want` (inputs sample, timestep, global_cond;
    /// one output: noise_pred, or sample_pred for a distilled network).
    pub fn load(
        onnx: &Path,
        inputs: &[Port],
        outputs: &[Port],
        opts: &RuntimeOptions,
    ) -> Result<Self, LoadError> {
        let shown = onnx.display().to_string();
        if !onnx.is_file() {
            return Err(LoadError::Missing(shown));
        }
        let library = find_library(opts.library.as_deref())?;
        let env = ensure_environment(&library)?;
        let model_err = |e: &dyn std::fmt::Display| LoadError::Model {
            path: shown.clone(),
            message: e.to_string(),
        };
        let mut builder = Session::builder(&env)
            .map_err(|e| model_err(&e))?
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(|e| model_err(&e))?
            .with_intra_threads(opts.intra_threads.max(1))
            .map_err(|e| model_err(&e))?;
        match opts.device {
            Device::Cpu => {}
            #[cfg(feature = "cuda")]
            Device::Cuda => {
                builder = builder
                    .with_execution_providers([ort::ep::CUDA::default().build().error_on_failure()])
                    .map_err(|e| model_err(&e))?;
            }
            #[cfg(not(feature = "cuda"))]
            Device::Cuda => {
                return Err(LoadError::RuntimeMissing(
                    "device cuda needs a build with `--features cuda` (and the onnxruntime-gpu \
                     wheel; see scripts/gpu-check.sh)"
                        .into(),
                ))
            }
        }
        let session = builder.commit_from_file(onnx).map_err(|e| model_err(&e))?;
        check_ports(&shown, "input", session.inputs(), inputs)?;
        check_ports(&shown, "output", session.outputs(), outputs)?;
        let len = |p: &Port| p.shape.iter().flatten().product::<i64>() as usize;
        let dim = |p: &Port, k: usize| p.shape[k].unwrap_or(1) as usize;
        Ok(Self {
            session,
            sample_len: len(&inputs[0]),
            pred_horizon: dim(&inputs[0], 1),
            action_dim: dim(&inputs[0], 2),
            cond_len: len(&inputs[2]),
            output: outputs
                .first()
                .map_or_else(|| "noise_pred".into(), |p| p.name.clone()),
            path: onnx.to_path_buf(),
        })
    }

    /// The output's name: `noise_pred` or `sample_pred`.
    pub fn output_name(&self) -> &str {
        &self.output
    }

    /// The network's prediction for a batch (noise, or the clean chunk for a distilled
    /// network): `sample` is batch x Tp x Da, `cond` batch x (To * Do).
    pub fn predict(
        &mut self,
        sample: &[f32],
        timesteps: &[i64],
        cond: &[f32],
    ) -> Result<Vec<f32>, InferenceError> {
        let batch = timesteps.len();
        if sample.len() != batch * self.sample_len || cond.len() != batch * self.cond_len {
            return Err(InferenceError::InputSize {
                sample: sample.len(),
                cond: cond.len(),
                batch,
            });
        }
        let mut run = || -> ort::Result<Vec<f32>> {
            let outputs = self.session.run(ort::inputs![
                "sample" => TensorRef::from_array_view(([batch, self.pred_horizon, self.action_dim], sample))?,
                "timestep" => TensorRef::from_array_view(([batch], timesteps))?,
                "global_cond" => TensorRef::from_array_view(([batch, self.cond_len], cond))?,
            ])?;
            let (_, data) = outputs[self.output.as_str()].try_extract_tensor::<f32>()?;
            Ok(data.to_vec())
        };
        let out = run().map_err(|e| InferenceError::Runtime {
            path: self.path.display().to_string(),
            message: e.to_string(),
        })?;
        if out.len() != sample.len() {
            return Err(InferenceError::OutputSize {
                path: self.path.display().to_string(),
                got: out.len(),
                want: sample.len(),
            });
        }
        Ok(out)
    }
}

fn check_ports(
    model: &str,
    what: &str,
    got: &[ort::value::Outlet],
    want: &[Port],
) -> Result<(), LoadError> {
    let names: Vec<&str> = got.iter().map(|o| o.name()).collect();
    let want_names: Vec<&str> = want.iter().map(|p| p.name.as_str()).collect();
    if names != want_names {
        return Err(LoadError::Mismatch(format!(
            "{model} has {what}s {names:?}; its metadata says {want_names:?}"
        )));
    }
    for (o, p) in got.iter().zip(want) {
        let shape = o
            .dtype()
            .tensor_shape()
            .map(|s| s.to_vec())
            .unwrap_or_default();
        let element = o
            .dtype()
            .tensor_type()
            .map(|t| format!("{t:?}").to_lowercase())
            .unwrap_or_else(|| "not a tensor".into());
        let fits = shape.len() == p.shape.len()
            && shape.iter().zip(&p.shape).all(|(g, w)| match w {
                None => *g < 0,
                Some(w) => g == w,
            });
        if !fits || !element.contains(p.element) {
            return Err(LoadError::Mismatch(format!(
                "{model}: {what} '{}' is {element} {}; the metadata needs {} {}",
                p.name,
                describe(&shape),
                p.element,
                describe_want(&p.shape)
            )));
        }
    }
    Ok(())
}
