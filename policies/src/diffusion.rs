//! The diffusion policy (Chi et al. 2023): from the last To observations, denoise a chunk of Tp
//! future end-effector targets and hand the agent the first Ta of them.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use embody_agent::{ActionChunk, Observation, Policy, PolicyError, SceneGraph, Skill};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::error::LoadError;
use crate::features::{self, Normalizer};
use crate::meta::ModelMeta;
use crate::onnx::{Denoiser, RuntimeOptions};
use crate::schedule::{NoiseSchedule, SamplerKind};

/// How to sample.
#[derive(Clone, Debug, Default)]
pub struct DiffusionOptions {
    pub runtime: RuntimeOptions,
    /// The model's own scheduler kind and step count when `None`.
    pub sampler: Option<SamplerKind>,
    pub steps: Option<usize>,
    /// Seed of the initial and per-step noise: same seed, same observations, same chunks.
    pub seed: u64,
}

pub struct DiffusionPolicy {
    meta: ModelMeta,
    denoiser: Denoiser,
    schedule: NoiseSchedule,
    sampler: SamplerKind,
    timesteps: Vec<usize>,
    obs_norm: Normalizer,
    action_norm: Normalizer,
    /// Normalized observation features, oldest first; at most To.
    history: VecDeque<Vec<f32>>,
    rng: ChaCha8Rng,
    seed: u64,
    /// Chunks produced for the current skill.
    chunks: u64,
}

impl DiffusionPolicy {
    /// Loads `<name>.json` and the ONNX file it names (`path` may be either).
    pub fn load(path: &Path, opts: DiffusionOptions) -> Result<Self, LoadError> {
        let (meta, onnx) = ModelMeta::load(path)?;
        let shown = path.display().to_string();
        let meta_err = |message: String| LoadError::Metadata {
            path: shown.clone(),
            message,
        };
        let denoiser = Denoiser::load(
            &onnx,
            &meta.input_ports(),
            &meta.output_ports(),
            &opts.runtime,
        )?;
        let schedule = NoiseSchedule::new(&meta.scheduler).map_err(meta_err)?;
        let sampler = opts.sampler.unwrap_or(meta.scheduler.kind);
        let steps = opts.steps.unwrap_or(meta.scheduler.num_inference_steps);
        let timesteps = schedule.timesteps(steps).map_err(meta_err)?;
        let obs_norm = Normalizer::new(&meta.normalization.obs, meta.obs.dim)
            .map_err(|m| meta_err(format!("normalization.obs: {m}")))?;
        let action_norm = Normalizer::new(&meta.normalization.action, meta.action.dim)
            .map_err(|m| meta_err(format!("normalization.action: {m}")))?;
        Ok(Self {
            meta,
            denoiser,
            schedule,
            sampler,
            timesteps,
            obs_norm,
            action_norm,
            history: VecDeque::new(),
            rng: ChaCha8Rng::seed_from_u64(opts.seed),
            seed: opts.seed,
            chunks: 0,
        })
    }

    pub fn meta(&self) -> &ModelMeta {
        &self.meta
    }

    pub fn onnx_path(&self) -> PathBuf {
        self.denoiser.path().to_path_buf()
    }

    /// One call of the network on a batch (the golden tests and the benchmark use this).
    pub fn denoise(
        &mut self,
        sample: &[f32],
        timesteps: &[i64],
        cond: &[f32],
    ) -> Result<Vec<f32>, PolicyError> {
        let eps = self
            .denoiser
            .predict(sample, timesteps, cond)
            .map_err(PolicyError::Other)?;
        if let Some(i) = eps.iter().position(|v| !v.is_finite()) {
            return Err(PolicyError::InvalidOutput(format!(
                "the network returned {} at index {i} of noise_pred",
                eps[i]
            )));
        }
        Ok(eps)
    }

    /// Runs the sampler from `noise` (normalized action space, Tp x Da) under the normalized
    /// condition `cond`. DDPM takes its per-step noise from `step_noise` (called once per
    /// step with t > 0).
    pub fn sample_from(
        &mut self,
        cond: &[f32],
        noise: Vec<f32>,
        mut step_noise: impl FnMut(usize) -> Vec<f32>,
    ) -> Result<Vec<f32>, PolicyError> {
        let mut x = noise;
        let steps = self.timesteps.len();
        for k in 0..steps {
            let t = self.timesteps[k];
            let eps = self.denoise(&x, &[t as i64], cond)?;
            match self.sampler {
                SamplerKind::Ddim => self.schedule.ddim_step(&eps, t, steps, &mut x),
                SamplerKind::Ddpm => {
                    let z = if t > 0 {
                        step_noise(x.len())
                    } else {
                        Vec::new()
                    };
                    self.schedule.ddpm_step(&eps, t, steps, &mut x, &z);
                }
            }
        }
        Ok(x)
    }

    fn gaussian(&mut self, n: usize) -> Vec<f32> {
        (0..n)
            .map(|_| StandardNormal.sample(&mut self.rng))
            .collect()
    }

    /// Adds an observation to the history (the agent calls this every action period).
    fn push_observation(
        &mut self,
        obs: &Observation,
        scene: &SceneGraph,
        skill: &Skill,
    ) -> Result<(), PolicyError> {
        let mut f =
            features::observation_features(obs, scene, skill).map_err(PolicyError::MissingInput)?;
        self.obs_norm.normalize(&mut f);
        self.history.push_back(f);
        while self.history.len() > self.meta.obs.horizon {
            self.history.pop_front();
        }
        Ok(())
    }

    /// The condition: the last To observations, the oldest repeated until there are To.
    fn condition(&self) -> Vec<f32> {
        let to = self.meta.obs.horizon;
        let mut cond = Vec::with_capacity(to * self.meta.obs.dim);
        for _ in self.history.len()..to {
            cond.extend_from_slice(&self.history[0]);
        }
        for h in &self.history {
            cond.extend_from_slice(h);
        }
        cond
    }
}

impl Policy for DiffusionPolicy {
    fn reset(&mut self) {
        self.history.clear();
        self.chunks = 0;
        // Each skill starts from the same noise stream: a skill's chunks do not depend on how
        // many chunks earlier skills took.
        self.rng = ChaCha8Rng::seed_from_u64(self.seed);
    }

    fn marks_completion(&self) -> bool {
        false
    }

    fn observation_period(&self) -> Option<f64> {
        Some(self.meta.action.dt)
    }

    fn observe(&mut self, obs: &Observation, scene: &SceneGraph, skill: &Skill) {
        // A missing object shows up again in `act`, which reports it.
        let _ = self.push_observation(obs, scene, skill);
    }

    fn act(
        &mut self,
        obs: &Observation,
        scene: &SceneGraph,
        skill: &Skill,
    ) -> Result<ActionChunk, PolicyError> {
        self.push_observation(obs, scene, skill)?;
        let cond = self.condition();
        let n = self.meta.action.pred_horizon * self.meta.action.dim;
        let noise = self.gaussian(n);
        let mut draws = Vec::new();
        if self.sampler == SamplerKind::Ddpm {
            for _ in 0..self.timesteps.len() {
                draws.push(self.gaussian(n));
            }
        }
        let mut draws = draws.into_iter();
        let mut x = self.sample_from(&cond, noise, |_| draws.next().unwrap_or_default())?;
        self.action_norm.denormalize(&mut x);
        let actions = x
            .chunks(self.meta.action.dim)
            .map(features::decode_action)
            .collect::<Result<Vec<_>, _>>()
            .map_err(PolicyError::InvalidOutput)?;
        self.chunks += 1;
        // The network predicts from the newest observation's time: with To = 2 the first action
        // aligns with the step before it (Chi et al.), so execution starts at index To - 1.
        let skip = (self.meta.obs.horizon - 1).min(actions.len() - 1);
        let actions = actions[skip..].to_vec();
        Ok(ActionChunk {
            start: obs.stamp,
            dt: self.meta.action.dt,
            execute: self.meta.action.exec_horizon.min(actions.len()),
            actions,
            completes_skill: false,
        })
    }
}
