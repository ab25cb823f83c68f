//! Loaded networks kept between policies: `embody run`, `eval` and `record` make a policy per
//! episode (each episode owns its policy's state), but the ONNX session inside need not be
//! opened again each time. A policy made with [`crate::DiffusionPolicy::load_pooled`] takes a
//! network from the pool and gives it back when it is dropped, so a batch holds as many
//! sessions as it runs episodes at once.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::diffusion::ChunkSampler;
use crate::onnx::{Device, RuntimeOptions};
use crate::schedule::SamplerKind;

/// What makes two loaded networks interchangeable: the same ONNX file run the same way with
/// the same sampler and steps.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkKey {
    onnx: PathBuf,
    library: Option<PathBuf>,
    intra_threads: usize,
    device: Device,
    kind: SamplerKind,
    steps: usize,
}

impl NetworkKey {
    pub(crate) fn new(
        onnx: &Path,
        runtime: &RuntimeOptions,
        kind: SamplerKind,
        steps: usize,
    ) -> Self {
        Self {
            onnx: onnx.to_path_buf(),
            library: runtime.library.clone(),
            intra_threads: runtime.intra_threads,
            device: runtime.device,
            kind,
            steps,
        }
    }
}

/// Networks not in use, shared by the policies of one command (clone it to share).
#[derive(Clone, Default)]
pub struct NetworkPool {
    free: Arc<Mutex<Vec<(NetworkKey, ChunkSampler)>>>,
}

impl NetworkPool {
    pub fn new() -> Self {
        Self::default()
    }

    /// A free network loaded like `key` says, if there is one.
    pub(crate) fn take(&self, key: &NetworkKey) -> Option<ChunkSampler> {
        // A poisoned lock only means a thread panicked while pushing or popping: the vector
        // is still whole, so it is used as it is.
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        let i = free.iter().position(|(k, _)| k == key)?;
        Some(free.swap_remove(i).1)
    }

    pub(crate) fn give_back(&self, key: NetworkKey, sampler: ChunkSampler) {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        free.push((key, sampler));
    }

    /// Networks waiting for a policy.
    pub fn free(&self) -> usize {
        self.free.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}
