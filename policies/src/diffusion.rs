//! The diffusion policy (Chi et al. 2023): from the last To observations, denoise a chunk of Tp
//! future end-effector targets and hand the agent the first Ta of them. With pipelining on, the
//! next chunk is computed on a worker thread from the observation one action period before the
//! current chunk ends, so the network's latency hides behind the last action's execution.

use std::collections::VecDeque;
use std::path::Path;
use std::thread::JoinHandle;

use embody_agent::types::ChunkSource;
use embody_agent::{ActionChunk, Observation, Policy, PolicyError, SceneGraph, Skill};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::error::{LoadError, MetaError};
use crate::features::{self, Normalizer};
use crate::meta::ModelMeta;
use crate::onnx::{Denoiser, RuntimeOptions};
use crate::schedule::{NoiseSchedule, SamplerKind};

/// How to sample.
#[derive(Clone, Debug)]
pub struct DiffusionOptions {
    pub runtime: RuntimeOptions,
    /// The model's own scheduler kind and step count when `None`.
    pub sampler: Option<SamplerKind>,
    pub steps: Option<usize>,
    /// Seed of the initial and per-step noise: same seed, same observations, same chunks.
    pub seed: u64,
    /// Compute the next chunk on a worker thread while the current one's last action runs.
    pub pipeline: bool,
}

impl Default for DiffusionOptions {
    fn default() -> Self {
        Self {
            runtime: RuntimeOptions::default(),
            sampler: None,
            steps: None,
            seed: 0,
            pipeline: true,
        }
    }
}

/// The network and the sampler loop: everything a chunk computation needs, movable to a thread.
struct ChunkSampler {
    denoiser: Denoiser,
    schedule: NoiseSchedule,
    kind: SamplerKind,
    timesteps: Vec<usize>,
}

impl ChunkSampler {
    fn denoise(
        &mut self,
        sample: &[f32],
        timesteps: &[i64],
        cond: &[f32],
    ) -> Result<Vec<f32>, PolicyError> {
        let eps = self
            .denoiser
            .predict(sample, timesteps, cond)
            .map_err(|e| PolicyError::Other(e.to_string()))?;
        if let Some(i) = eps.iter().position(|v| !v.is_finite()) {
            return Err(PolicyError::InvalidOutput(format!(
                "the network returned {} at index {i} of noise_pred",
                eps[i]
            )));
        }
        Ok(eps)
    }

    fn sample(
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
            match self.kind {
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
}

/// A chunk being computed on the worker thread, from the observation at `start`.
struct Pending {
    start: f64,
    handle: JoinHandle<(ChunkSampler, Result<Vec<f32>, PolicyError>)>,
}

/// The inputs of one chunk: condition and all the noise it will use, drawn in a fixed order.
struct ChunkInputs {
    cond: Vec<f32>,
    noise: Vec<f32>,
    step_noise: Vec<Vec<f32>>,
}

pub struct DiffusionPolicy {
    meta: ModelMeta,
    /// `None` only while a pending chunk's thread holds it.
    sampler: Option<ChunkSampler>,
    pending: Option<Pending>,
    pipeline: bool,
    obs_norm: Normalizer,
    action_norm: Normalizer,
    /// Normalized observation features, oldest first; at most To.
    history: VecDeque<Vec<f32>>,
    rng: ChaCha8Rng,
    seed: u64,
    /// Observations since the last chunk was handed out.
    since_chunk: usize,
    /// Resets so far (skill attempts started): the noise stream of the current attempt.
    resets: u64,
}

impl DiffusionPolicy {
    /// Loads `<name>.json` and the ONNX file it names (`path` may be either).
    pub fn load(path: &Path, opts: DiffusionOptions) -> Result<Self, LoadError> {
        let (meta, onnx) = ModelMeta::load(path)?;
        let shown = path.display().to_string();
        let meta_err = |problem: MetaError| LoadError::Metadata {
            path: shown.clone(),
            problem,
        };
        let denoiser = Denoiser::load(
            &onnx,
            &meta.input_ports(),
            &meta.output_ports(),
            &opts.runtime,
        )?;
        let schedule =
            NoiseSchedule::new(&meta.scheduler).map_err(|e| meta_err(MetaError::Scheduler(e)))?;
        let kind = opts.sampler.unwrap_or(meta.scheduler.kind);
        let steps = opts.steps.unwrap_or(meta.scheduler.num_inference_steps);
        let timesteps = schedule
            .timesteps(steps)
            .map_err(|e| meta_err(MetaError::Scheduler(e)))?;
        let normalizer = |which, stats, dim| {
            Normalizer::new(stats, dim)
                .map_err(|problem| meta_err(MetaError::Normalization { which, problem }))
        };
        let obs_norm = normalizer("obs", &meta.normalization.obs, meta.obs.dim)?;
        let action_norm = normalizer("action", &meta.normalization.action, meta.action.dim)?;
        Ok(Self {
            meta,
            sampler: Some(ChunkSampler {
                denoiser,
                schedule,
                kind,
                timesteps,
            }),
            pending: None,
            pipeline: opts.pipeline,
            obs_norm,
            action_norm,
            history: VecDeque::new(),
            rng: ChaCha8Rng::seed_from_u64(opts.seed),
            seed: opts.seed,
            since_chunk: 0,
            resets: 0,
        })
    }

    pub fn meta(&self) -> &ModelMeta {
        &self.meta
    }

    /// Waits for a chunk in flight and returns it with its start time.
    fn join_pending(&mut self) -> Option<(f64, Result<Vec<f32>, PolicyError>)> {
        let p = self.pending.take()?;
        match p.handle.join() {
            Ok((sampler, result)) => {
                self.sampler = Some(sampler);
                Some((p.start, result))
            }
            Err(_) => Some((
                p.start,
                Err(PolicyError::Other(
                    "the policy's worker thread panicked; the network is gone".into(),
                )),
            )),
        }
    }

    fn sampler(&mut self) -> Result<&mut ChunkSampler, PolicyError> {
        if self.pending.is_some() {
            let _ = self.join_pending();
        }
        self.sampler
            .as_mut()
            .ok_or_else(|| PolicyError::Other("the policy's network was lost".into()))
    }

    /// One call of the network on a batch (the golden tests and the benchmark use this).
    pub fn denoise(
        &mut self,
        sample: &[f32],
        timesteps: &[i64],
        cond: &[f32],
    ) -> Result<Vec<f32>, PolicyError> {
        self.sampler()?.denoise(sample, timesteps, cond)
    }

    /// Runs the sampler from `noise` (normalized action space, Tp x Da) under the normalized
    /// condition `cond`. DDPM takes its per-step noise from `step_noise` (called once per
    /// step with t > 0).
    pub fn sample_from(
        &mut self,
        cond: &[f32],
        noise: Vec<f32>,
        step_noise: impl FnMut(usize) -> Vec<f32>,
    ) -> Result<Vec<f32>, PolicyError> {
        self.sampler()?.sample(cond, noise, step_noise)
    }

    fn gaussian(&mut self, n: usize) -> Vec<f32> {
        (0..n)
            .map(|_| StandardNormal.sample(&mut self.rng))
            .collect()
    }

    /// Adds an observation to the history.
    fn push_observation(
        &mut self,
        obs: &Observation,
        scene: &SceneGraph,
        skill: &Skill,
    ) -> Result<(), PolicyError> {
        let mut f = features::observation_features(obs, scene, skill)
            .map_err(|e| PolicyError::MissingInput(e.to_string()))?;
        self.obs_norm.normalize(&mut f);
        self.history.push_back(f);
        while self.history.len() > self.meta.obs.horizon {
            self.history.pop_front();
        }
        Ok(())
    }

    /// The condition (the last To observations, the oldest repeated until there are To) and
    /// the noise of the next chunk, drawn now so that the stream's order never depends on
    /// which thread samples.
    fn next_inputs(&mut self) -> ChunkInputs {
        let to = self.meta.obs.horizon;
        let mut cond = Vec::with_capacity(to * self.meta.obs.dim);
        for _ in self.history.len()..to {
            cond.extend_from_slice(&self.history[0]);
        }
        for h in &self.history {
            cond.extend_from_slice(h);
        }
        let n = self.meta.action.pred_horizon * self.meta.action.dim;
        let noise = self.gaussian(n);
        let draws = match self.sampler.as_ref().map(|s| (s.kind, s.timesteps.len())) {
            Some((SamplerKind::Ddpm, steps)) => (0..steps).map(|_| self.gaussian(n)).collect(),
            _ => Vec::new(),
        };
        ChunkInputs {
            cond,
            noise,
            step_noise: draws,
        }
    }

    /// Starts the next chunk on a worker thread.
    fn start_pending(&mut self, start: f64) {
        let inputs = self.next_inputs();
        let Some(mut sampler) = self.sampler.take() else {
            return;
        };
        let handle = std::thread::spawn(move || {
            let mut draws = inputs.step_noise.into_iter();
            let r = sampler.sample(&inputs.cond, inputs.noise, |_| {
                draws.next().unwrap_or_default()
            });
            (sampler, r)
        });
        self.pending = Some(Pending { start, handle });
    }

    fn to_chunk(&self, start: f64, mut x: Vec<f32>) -> Result<ActionChunk, PolicyError> {
        self.action_norm.denormalize(&mut x);
        let actions = x
            .chunks(self.meta.action.dim)
            .map(features::decode_action)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| PolicyError::InvalidOutput(e.to_string()))?;
        // With To observations, the first To - 1 predicted actions belong to the past (Chi et
        // al.): the chunk handed out starts at the newest observation's step.
        let skip = (self.meta.obs.horizon - 1).min(actions.len() - 1);
        let actions = actions[skip..].to_vec();
        Ok(ActionChunk {
            start,
            dt: self.meta.action.dt,
            execute: self.meta.action.exec_horizon.min(actions.len()),
            actions,
            completes_skill: false,
            source: ChunkSource::Policy,
        })
    }
}

impl Policy for DiffusionPolicy {
    fn reset(&mut self) {
        // A chunk still in flight belongs to the previous skill.
        let _ = self.join_pending();
        self.history.clear();
        self.since_chunk = 0;
        // Each skill attempt draws from its own noise stream, numbered by the resets so far: a
        // skill's chunks do not depend on how many chunks earlier skills took, and a retry
        // after a stall does not replay the noise that stalled.
        self.resets += 1;
        self.rng = ChaCha8Rng::seed_from_u64(self.seed);
        self.rng.set_stream(self.resets);
    }

    fn marks_completion(&self) -> bool {
        false
    }

    fn observation_period(&self) -> Option<f64> {
        Some(self.meta.action.dt)
    }

    fn observe(&mut self, obs: &Observation, scene: &SceneGraph, skill: &Skill) {
        // A missing object shows up again in `act`, which reports it.
        if self.push_observation(obs, scene, skill).is_err() {
            return;
        }
        self.since_chunk += 1;
        // The observation one period before the current chunk's executed part ends.
        let exec = self.meta.action.exec_horizon;
        if self.pipeline && exec > 1 && self.since_chunk == exec - 1 && self.pending.is_none() {
            self.start_pending(obs.stamp);
        }
    }

    fn act(
        &mut self,
        obs: &Observation,
        scene: &SceneGraph,
        skill: &Skill,
    ) -> Result<ActionChunk, PolicyError> {
        self.since_chunk = 0;
        if let Some((start, result)) = self.join_pending() {
            // The newest observation joins the history for the chunk after this one.
            self.push_observation(obs, scene, skill)?;
            return self.to_chunk(start, result?);
        }
        self.push_observation(obs, scene, skill)?;
        let inputs = self.next_inputs();
        let mut draws = inputs.step_noise.into_iter();
        let x = self.sample_from(&inputs.cond, inputs.noise, |_| {
            draws.next().unwrap_or_default()
        })?;
        self.to_chunk(obs.stamp, x)
    }
}

impl Drop for DiffusionPolicy {
    fn drop(&mut self) {
        let _ = self.join_pending();
    }
}
