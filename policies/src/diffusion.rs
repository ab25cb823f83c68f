//! The diffusion policy (Chi et al. 2023): from the last To observations, denoise a chunk of Tp
//! future end-effector targets and hand the agent the first Ta of them. With pipelining on, the
//! next chunk is computed on a worker thread from the observation d action periods before the
//! current chunk ends (d = the inference delay, one period by default), so the network's
//! latency hides behind the last actions' execution. How consecutive chunks meet at the
//! hand-over is the [`Chunking`] mode.

use std::collections::VecDeque;
use std::path::Path;
use std::thread::JoinHandle;

use embody_agent::types::ChunkSource;
use embody_agent::{ActionChunk, Constraint, Observation, Policy, PolicyError, SceneGraph, Skill};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::error::{DelayError, LoadError, MetaError};
use crate::features::{Framer, Normalizer};
use crate::guidance::{self, Cost, GuidanceConfig};
use crate::meta::ModelMeta;
use crate::network_pool::{NetworkKey, NetworkPool};
use crate::onnx::{Denoiser, RuntimeOptions};
use crate::schedule::{NoiseSchedule, SamplerKind, X0Guide};

/// How the next chunk takes over from the one executing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Chunking {
    /// Switch at the hand-over to the new chunk as sampled.
    #[default]
    Naive,
    /// ACT-style temporal ensembling: where both chunks predict the same time step, the
    /// executed action is their weighted mean (weights exp(-0.01 i), i = 0 the older
    /// prediction, as ACT's); the gripper is the new chunk's.
    Ensemble,
    /// Real-time chunking (Black et al. 2025): the next chunk is sampled with the actions that
    /// will still execute during its inference frozen to the executing chunk's (inpainting with
    /// a mask of 1) and the rest of their overlap pulled toward it with a mask decaying to 0.
    Rtc,
}

/// A chunking name that is not one of [`Chunking`]'s.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("unknown chunking '{0}': naive, ensemble or rtc")]
pub struct UnknownChunking(pub String);

impl std::str::FromStr for Chunking {
    type Err = UnknownChunking;
    fn from_str(s: &str) -> Result<Self, UnknownChunking> {
        match s {
            "naive" => Ok(Self::Naive),
            "ensemble" => Ok(Self::Ensemble),
            "rtc" => Ok(Self::Rtc),
            _ => Err(UnknownChunking(s.to_string())),
        }
    }
}

impl std::fmt::Display for Chunking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Naive => "naive",
            Self::Ensemble => "ensemble",
            Self::Rtc => "rtc",
        })
    }
}

/// How to sample.
#[derive(Clone, Debug)]
pub struct DiffusionOptions {
    pub runtime: RuntimeOptions,
    /// The model's own scheduler kind and step count when `None`.
    pub sampler: Option<SamplerKind>,
    pub steps: Option<usize>,
    /// Seed of the initial and per-step noise: same seed, same observations, same chunks.
    pub seed: u64,
    /// Compute the next chunk on a worker thread while the current one's last actions run.
    pub pipeline: bool,
    /// With `pipeline`: how long before the hand-over the next chunk's observation is taken
    /// (s), rounded up to whole observation periods, 1 to Ta - 1 of them. `None`: one period.
    /// In lockstep this emulates inference latency deterministically.
    pub inference_delay_s: Option<f64>,
    pub chunking: Chunking,
    /// Steer each chunk with costs from the scene (see [`crate::guidance`]); `None`: off.
    pub guidance: Option<GuidanceConfig>,
    /// Steer by the plan's keep-away constraints (whether or not `guidance` is on); `false`
    /// leaves them measured only, the comparison that shows what steering does.
    pub steer_constraints: bool,
}

impl Default for DiffusionOptions {
    fn default() -> Self {
        Self {
            runtime: RuntimeOptions::default(),
            sampler: None,
            steps: None,
            seed: 0,
            pipeline: true,
            inference_delay_s: None,
            chunking: Chunking::Naive,
            guidance: None,
            steer_constraints: true,
        }
    }
}

/// The network and the sampler loop: everything a chunk computation needs, movable to a thread.
pub(crate) struct ChunkSampler {
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
        let out = self
            .denoiser
            .predict(sample, timesteps, cond)
            .map_err(|e| PolicyError::Other(e.to_string()))?;
        if let Some(i) = out.iter().position(|v| !v.is_finite()) {
            return Err(PolicyError::InvalidOutput(format!(
                "the network returned {} at index {i} of {}",
                out[i],
                self.denoiser.output_name()
            )));
        }
        Ok(out)
    }

    fn sample(
        &mut self,
        cond: &[f32],
        noise: Vec<f32>,
        mut step_noise: impl FnMut(usize) -> Vec<f32>,
        guide: Option<&X0Guide>,
        steer: Option<&Steer>,
    ) -> Result<Vec<f32>, PolicyError> {
        let mut x = noise;
        let steps = self.timesteps.len();
        for k in 0..steps {
            let t = self.timesteps[k];
            let out = self.denoise(&x, &[t as i64], cond)?;
            if self.kind == SamplerKind::Consistency {
                // A distilled network's output is the clean chunk itself: steer it, then step.
                let mut x0 = out;
                self.schedule.clip(&mut x0);
                if let Some(s) = steer {
                    s.apply(&mut x0);
                }
                let next = self.timesteps.get(k + 1).copied();
                self.schedule.consistency_step(&x0, t, next, &mut x, guide);
                continue;
            }
            let mut eps = out;
            if let Some(s) = steer {
                let mut x0 = self.schedule.predicted_x0(&x, &eps, t);
                if s.apply(&mut x0) {
                    eps = self.schedule.eps_for_x0(&x, &x0, t);
                }
            }
            if self.kind == SamplerKind::Ddpm {
                let z = if t > 0 {
                    step_noise(x.len())
                } else {
                    Vec::new()
                };
                self.schedule
                    .ddpm_step_guided(&eps, t, steps, &mut x, &z, guide);
            } else {
                self.schedule
                    .ddim_step_guided(&eps, t, steps, &mut x, guide);
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

/// The inputs of one chunk: condition and all the noise it will use, drawn in a fixed order,
/// with `rtc` the executing chunk to agree with, and with guidance its costs.
struct ChunkInputs {
    cond: Vec<f32>,
    noise: Vec<f32>,
    step_noise: Vec<Vec<f32>>,
    guide: Option<X0Guide>,
    steer: Option<Steer>,
}

/// Guidance for one chunk: its costs, and how to move between the network's normalized action
/// features and positions in metres.
pub struct Steer {
    costs: Vec<Box<dyn Cost>>,
    norm: Normalizer,
    /// The frame of the action features (the skill attempt's).
    framer: Framer,
    dim: usize,
    strength: f64,
}

impl Steer {
    /// Moves the positions of the predicted clean chunk `x0` (normalized, Tp x Da) by
    /// `strength` times the costs' pull; `false` when nothing pulled. Each action is probed at
    /// its TCP and at its two fingertips (half the commanded width either side along the
    /// hand's y axis): the fingers are what touch the neighbours of the object being grasped.
    /// The pulls on an action's three points move its TCP target.
    fn apply(&self, x0: &mut [f32]) -> bool {
        let mut rows: Vec<f32> = x0.to_vec();
        self.norm.denormalize(&mut rows);
        let mut points = Vec::with_capacity(3 * rows.len() / self.dim);
        for r in rows.chunks(self.dim) {
            let Ok(a) = self.framer.decode(r) else {
                // A degenerate rotation mid-denoising: steer nothing this step.
                return false;
            };
            let tcp = a.ee_target_in_base.translation.vector;
            let half = a.ee_target_in_base.rotation
                * nalgebra::Vector3::new(0.0, a.gripper_width_m / 2.0, 0.0);
            points.extend([tcp, tcp + half, tcp - half]);
        }
        let (pull, cost) = guidance::total_pull(&self.costs, &points);
        if cost <= 0.0 {
            return false;
        }
        for (r, v) in rows.chunks_mut(self.dim).zip(pull.chunks(3)) {
            let v = self.framer.vector_in_frame(&(v[0] + v[1] + v[2]));
            for k in 0..3 {
                r[k] += (self.strength * v[k]) as f32;
            }
        }
        self.norm.normalize(&mut rows);
        // Only the positions move; the rotation and gripper features stay as predicted.
        for (j, r) in rows.chunks(self.dim).enumerate() {
            x0[j * self.dim..j * self.dim + 3].copy_from_slice(&r[..3]);
        }
        true
    }
}

/// The chunk handed out last in this skill attempt: its start and its Tp x Da actions in the
/// network's normalized space (after ensembling), indexed as the network's output.
struct Handed {
    start: f64,
    x: Vec<f32>,
}

pub struct DiffusionPolicy {
    meta: ModelMeta,
    /// `None` only while a pending chunk's thread holds it.
    sampler: Option<ChunkSampler>,
    pending: Option<Pending>,
    pipeline: bool,
    /// Observation periods between the next chunk's observation and its hand-over (>= 1
    /// with pipelining).
    delay_periods: usize,
    chunking: Chunking,
    handed: Option<Handed>,
    guidance: Option<GuidanceConfig>,
    /// The plan's keep-away constraints, steered by even when guidance is off.
    keep_away: Vec<Constraint>,
    steer_constraints: bool,
    /// The model's feature frame, fixed at each skill attempt's first observation.
    framer: Framer,
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
    /// Where the network goes back when the policy is dropped, for the next episode's policy.
    pool: Option<(NetworkPool, NetworkKey)>,
}

impl DiffusionPolicy {
    /// Loads `<name>.json` and the ONNX file it names (`path` may be either).
    pub fn load(path: &Path, opts: DiffusionOptions) -> Result<Self, LoadError> {
        Self::load_with(path, opts, None)
    }

    /// [`Self::load`], taking the network from `pool` when the pool holds one loaded from the
    /// same file with the same runtime, sampler and steps, and giving it back there when the
    /// policy is dropped. A run of many episodes then opens its ONNX session once per worker
    /// instead of once per episode: no repeated model load at each episode's start, and none
    /// of the allocation churn that a session's ~10 MB of weights and buffers leaves behind.
    pub fn load_pooled(
        path: &Path,
        opts: DiffusionOptions,
        pool: &NetworkPool,
    ) -> Result<Self, LoadError> {
        Self::load_with(path, opts, Some(pool))
    }

    fn load_with(
        path: &Path,
        opts: DiffusionOptions,
        pool: Option<&NetworkPool>,
    ) -> Result<Self, LoadError> {
        let (meta, onnx) = ModelMeta::load(path)?;
        let shown = path.display().to_string();
        let meta_err = |problem: MetaError| LoadError::Metadata {
            path: shown.clone(),
            problem,
        };
        let kind = opts.sampler.unwrap_or(meta.scheduler.kind);
        let steps = opts.steps.unwrap_or(meta.scheduler.num_inference_steps);
        let key = NetworkKey::new(&onnx, &opts.runtime, kind, steps);
        let sampler = match pool.and_then(|p| p.take(&key)) {
            Some(sampler) => sampler,
            None => {
                let denoiser = Denoiser::load(
                    &onnx,
                    &meta.input_ports(),
                    &meta.output_ports(),
                    &opts.runtime,
                )?;
                let schedule = NoiseSchedule::new(&meta.scheduler)
                    .map_err(|e| meta_err(MetaError::Scheduler(e)))?;
                let timesteps = schedule
                    .sampler_timesteps(kind, steps)
                    .map_err(|e| meta_err(MetaError::Scheduler(e)))?;
                ChunkSampler {
                    denoiser,
                    schedule,
                    kind,
                    timesteps,
                }
            }
        };
        let normalizer = |which, stats, dim| {
            Normalizer::new(stats, dim)
                .map_err(|problem| meta_err(MetaError::Normalization { which, problem }))
        };
        let delay_periods = if opts.pipeline {
            delay_periods(&meta, opts.inference_delay_s)?
        } else {
            0
        };
        let obs_norm = normalizer("obs", &meta.normalization.obs, meta.obs.dim)?;
        let action_norm = normalizer("action", &meta.normalization.action, meta.action.dim)?;
        let framer = Framer::new(meta.layout());
        Ok(Self {
            meta,
            sampler: Some(sampler),
            pending: None,
            pipeline: opts.pipeline && delay_periods > 0,
            delay_periods,
            chunking: opts.chunking,
            handed: None,
            guidance: opts.guidance.filter(|g| g.strength > 0.0),
            keep_away: Vec::new(),
            steer_constraints: opts.steer_constraints,
            framer,
            obs_norm,
            action_norm,
            history: VecDeque::new(),
            rng: ChaCha8Rng::seed_from_u64(opts.seed),
            seed: opts.seed,
            since_chunk: 0,
            resets: 0,
            pool: pool.map(|p| (p.clone(), key)),
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
        self.sampler()?.sample(cond, noise, step_noise, None, None)
    }

    /// [`Self::sample_from`] (DDIM) steered by `cfg`'s costs for `skill` in `scene` (the
    /// benchmark times guidance's cost with this).
    pub fn sample_guided(
        &mut self,
        cond: &[f32],
        noise: Vec<f32>,
        scene: &SceneGraph,
        skill: &Skill,
        cfg: &GuidanceConfig,
    ) -> Result<Vec<f32>, PolicyError> {
        let steer = Steer {
            costs: guidance::costs_for(scene, skill, cfg),
            norm: self.action_norm.clone(),
            framer: self.framer.clone(),
            dim: self.meta.action.dim,
            strength: cfg.strength,
        };
        self.sampler()?
            .sample(cond, noise, |_| Vec::new(), None, Some(&steer))
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
        let mut f = self
            .framer
            .observation(obs, scene, skill)
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
    fn next_inputs(&mut self, start: f64, scene: &SceneGraph, skill: &Skill) -> ChunkInputs {
        let cond = condition(&self.history, self.meta.obs.horizon);
        let n = self.meta.action.pred_horizon * self.meta.action.dim;
        let noise = self.gaussian(n);
        let draws = match self.sampler.as_ref().map(|s| (s.kind, s.timesteps.len())) {
            Some((SamplerKind::Ddpm, steps)) => (0..steps).map(|_| self.gaussian(n)).collect(),
            _ => Vec::new(),
        };
        let guide = match (self.chunking, &self.handed) {
            (Chunking::Rtc, Some(h)) => rtc_guide(&self.meta, h, self.delay_periods, start),
            _ => None,
        };
        let steer = self.steer(start, scene, skill);
        ChunkInputs {
            cond,
            noise,
            step_noise: draws,
            guide,
            steer,
        }
    }

    /// The guidance costs for the next chunk (observed at `start`) of `skill` in `scene`: the
    /// plan's keep-away constraints always, the scene's costs when guidance is on.
    fn steer(&self, start: f64, scene: &SceneGraph, skill: &Skill) -> Option<Steer> {
        let defaults = GuidanceConfig::default();
        let cfg = match &self.guidance {
            Some(cfg) => cfg,
            None if !self.keep_away.is_empty() => &defaults,
            None => return None,
        };
        let mut costs =
            guidance::keep_away_costs(scene, skill, &self.keep_away, cfg.object_margin_m);
        if self.guidance.is_some() {
            costs.extend(guidance::costs_for(scene, skill, cfg));
        }
        if cfg.smoothness > 0.0 {
            if let Some(h) = &self.handed {
                if let Some(offset) = overlap(&self.meta, h, start) {
                    let (tp, da) = (self.meta.action.pred_horizon, self.meta.action.dim);
                    let mut old = h.x.clone();
                    self.action_norm.denormalize(&mut old);
                    let targets = (0..tp)
                        .map(|j| {
                            let i = (j + offset) * da;
                            (j + offset < tp).then(|| {
                                // Strongest at the hand-over, fading over the overlap.
                                let w = cfg.smoothness * (tp - j - offset) as f64 / tp as f64;
                                let p = &old[i..i + 3];
                                // The old chunk's features are in the attempt's frame; the
                                // costs work in the base frame.
                                let p = self.framer.frame()
                                    * nalgebra::Point3::new(
                                        f64::from(p[0]),
                                        f64::from(p[1]),
                                        f64::from(p[2]),
                                    );
                                (p.coords, w)
                            })
                        })
                        .collect();
                    costs.push(Box::new(guidance::Toward { targets }));
                }
            }
        }
        Some(Steer {
            costs,
            norm: self.action_norm.clone(),
            framer: self.framer.clone(),
            dim: self.meta.action.dim,
            strength: cfg.strength,
        })
    }

    /// Hands out the chunk sampled from the observation at `start`.
    fn hand_out(&mut self, start: f64, mut x: Vec<f32>) -> Result<ActionChunk, PolicyError> {
        if let (Chunking::Ensemble, Some(h)) = (self.chunking, &self.handed) {
            ensemble(&self.meta, h, start, &mut x);
        }
        self.handed = Some(Handed {
            start,
            x: x.clone(),
        });
        self.to_chunk(start, x)
    }

    /// Starts the next chunk on a worker thread.
    fn start_pending(&mut self, start: f64, scene: &SceneGraph, skill: &Skill) {
        let inputs = self.next_inputs(start, scene, skill);
        let Some(mut sampler) = self.sampler.take() else {
            return;
        };
        let handle = std::thread::spawn(move || {
            let mut draws = inputs.step_noise.into_iter();
            let r = sampler.sample(
                &inputs.cond,
                inputs.noise,
                |_| draws.next().unwrap_or_default(),
                inputs.guide.as_ref(),
                inputs.steer.as_ref(),
            );
            (sampler, r)
        });
        self.pending = Some(Pending { start, handle });
    }

    fn to_chunk(&self, start: f64, mut x: Vec<f32>) -> Result<ActionChunk, PolicyError> {
        self.action_norm.denormalize(&mut x);
        chunk_from_rows(&self.meta, &self.framer, start, &x)
    }

    /// One chunk for a robot elsewhere (the policy server): everything the robot knows comes
    /// in `req`, so nothing is kept between calls. Returns the Tp rows of action features
    /// (denormalized; the network's indexing, see [`chunk_from_rows`]).
    pub fn compute_for(&mut self, req: &RemoteRequest<'_>) -> Result<Vec<f32>, PolicyError> {
        let (to, od) = (self.meta.obs.horizon, self.meta.obs.dim);
        let (tp, da) = (self.meta.action.pred_horizon, self.meta.action.dim);
        if req.observations.is_empty()
            || !req.observations.len().is_multiple_of(od)
            || req.observations.len() / od > to
        {
            return Err(PolicyError::MissingInput(format!(
                "1 to {to} observations of {od} features ({} values came)",
                req.observations.len()
            )));
        }
        if req.delay_periods >= self.meta.action.exec_horizon.max(1) {
            return Err(PolicyError::Other(format!(
                "an inference delay of {} periods is not shorter than the executed part of a \
                 chunk ({})",
                req.delay_periods, self.meta.action.exec_horizon
            )));
        }
        let mut rows: Vec<Vec<f32>> = req.observations.chunks(od).map(<[f32]>::to_vec).collect();
        for r in &mut rows {
            self.obs_norm.normalize(r);
        }
        let cond = condition(&rows, to);
        let handed = match req.committed {
            Some((start, x)) if x.len() == tp * da => {
                let mut x = x.to_vec();
                self.action_norm.normalize(&mut x);
                Some(Handed { start, x })
            }
            Some((_, x)) => {
                return Err(PolicyError::MissingInput(format!(
                    "a committed chunk of {tp} x {da} action features ({} values came)",
                    x.len()
                )))
            }
            None => None,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(req.noise_seed);
        let n = tp * da;
        let mut gaussian =
            |n: usize| -> Vec<f32> { (0..n).map(|_| StandardNormal.sample(&mut rng)).collect() };
        let noise = gaussian(n);
        let sampler = self.sampler()?;
        let draws: Vec<Vec<f32>> = match sampler.kind {
            SamplerKind::Ddpm => (0..sampler.timesteps.len()).map(|_| gaussian(n)).collect(),
            SamplerKind::Ddim | SamplerKind::Consistency => Vec::new(),
        };
        let guide = match (req.chunking, &handed) {
            (Chunking::Rtc, Some(h)) => rtc_guide(&self.meta, h, req.delay_periods, req.stamp),
            _ => None,
        };
        let mut draws = draws.into_iter();
        let mut x = self.sampler()?.sample(
            &cond,
            noise,
            |_| draws.next().unwrap_or_default(),
            guide.as_ref(),
            None,
        )?;
        if let (Chunking::Ensemble, Some(h)) = (req.chunking, &handed) {
            ensemble(&self.meta, h, req.stamp, &mut x);
        }
        self.action_norm.denormalize(&mut x);
        Ok(x)
    }
}

/// The network's condition from normalized observation rows, oldest first: the last `to` of
/// them, the oldest repeated until there are `to`.
fn condition<'a>(rows: impl IntoIterator<Item = &'a Vec<f32>>, to: usize) -> Vec<f32> {
    let rows: Vec<&Vec<f32>> = rows.into_iter().collect();
    let rows = &rows[rows.len().saturating_sub(to)..];
    let mut cond = Vec::with_capacity(to * rows.first().map_or(0, |r| r.len()));
    for _ in rows.len()..to {
        cond.extend_from_slice(rows[0]);
    }
    for r in rows {
        cond.extend_from_slice(r);
    }
    cond
}

/// Observation periods between a chunk's observation and its hand-over for an inference delay
/// of `delay_s` (`None`: one period), rounded up: a 150 ms delay takes the observation 200 ms
/// before. Must stay below the executed part of a chunk.
pub fn delay_periods(meta: &ModelMeta, delay_s: Option<f64>) -> Result<usize, DelayError> {
    let exec = meta.action.exec_horizon;
    let periods = match delay_s {
        None => 1,
        Some(d) if !(d.is_finite() && d >= 0.0) => return Err(DelayError::NotADuration(d)),
        Some(d) => ((d / meta.action.dt) - 1e-9).ceil().max(0.0) as usize,
    };
    if periods > 0 && periods >= exec.max(1) {
        return Err(DelayError::TooLong {
            periods,
            delay_ms: periods as f64 * meta.action.dt * 1e3,
            exec,
            period_ms: meta.action.dt * 1e3,
        });
    }
    Ok(periods)
}

/// Whether the observation numbered `since_chunk` (1 = the first after the last hand-over) is
/// the one the next chunk is computed from: `delay_periods` before the executed part ends.
pub fn is_next_chunk_observation(
    meta: &ModelMeta,
    since_chunk: usize,
    delay_periods: usize,
) -> bool {
    let exec = meta.action.exec_horizon;
    delay_periods > 0 && exec > delay_periods && since_chunk == exec - delay_periods
}

/// What a robot sends the policy server for one chunk (see `DiffusionPolicy::compute_for`).
pub struct RemoteRequest<'a> {
    /// The last To (or fewer) observations' features, oldest first, not normalized.
    pub observations: &'a [f32],
    /// Robot time of the newest observation: the chunk's start.
    pub stamp: f64,
    /// The executing chunk's start and its Tp rows of action features, as this function
    /// returned them; `None` for the first chunk of a skill attempt.
    pub committed: Option<(f64, &'a [f32])>,
    pub delay_periods: usize,
    pub chunking: Chunking,
    pub noise_seed: u64,
}

/// The chunk handed to the agent from Tp rows of denormalized action features starting at
/// `start`: with To observations the first To - 1 rows belong to the past (Chi et al.) and are
/// skipped, so the chunk starts at the newest observation's step.
pub fn chunk_from_rows(
    meta: &ModelMeta,
    framer: &Framer,
    start: f64,
    rows: &[f32],
) -> Result<ActionChunk, PolicyError> {
    let actions = rows
        .chunks(meta.action.dim)
        .map(|r| framer.decode(r))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PolicyError::InvalidOutput(e.to_string()))?;
    if actions.is_empty() {
        return Err(PolicyError::InvalidOutput("a chunk without actions".into()));
    }
    let skip = (meta.obs.horizon - 1).min(actions.len() - 1);
    let actions = actions[skip..].to_vec();
    Ok(ActionChunk {
        start,
        dt: meta.action.dt,
        execute: meta.action.exec_horizon.min(actions.len()),
        actions,
        completes_skill: false,
        source: ChunkSource::Policy,
    })
}

/// How many action periods after `h` a chunk starting at `start` starts (`None`: before it).
fn overlap(meta: &ModelMeta, h: &Handed, start: f64) -> Option<usize> {
    let periods = ((start - h.start) / meta.action.dt).round();
    (periods >= 0.0).then_some(periods as usize)
}

/// The inpainting target and mask of real-time chunking for a chunk observed at `start`,
/// `delay_periods` before it takes over from `h`.
fn rtc_guide(meta: &ModelMeta, h: &Handed, delay_periods: usize, start: f64) -> Option<X0Guide> {
    let offset = overlap(meta, h, start)?;
    let (tp, da) = (meta.action.pred_horizon, meta.action.dim);
    // Network index of the hand-over: the first To - 1 outputs are the past, then the
    // `delay_periods` actions that run while this chunk is computed.
    let frozen = meta.obs.horizon - 1 + delay_periods;
    // The old chunk predicts up to (not including) this index of the new one.
    let covered = tp.saturating_sub(offset);
    if covered == 0 {
        return None;
    }
    let mut target = vec![0.0f32; tp * da];
    let mut mask = vec![0.0f32; tp * da];
    for j in 0..covered {
        let w = if j < frozen {
            1.0
        } else {
            // Black et al.'s soft mask: from near 1 after the frozen part down to 0 where the
            // old chunk ends. (A hard mask, 0 here, left hand-over jumps of 34 mm mean at
            // 200 ms on seeds 1000-1049, against 5 mm with this one.)
            let c = (covered - j) as f64 / (covered - frozen + 1) as f64;
            c * (c.exp() - 1.0) / (std::f64::consts::E - 1.0)
        };
        let old = (j + offset) * da;
        target[j * da..(j + 1) * da].copy_from_slice(&h.x[old..old + da]);
        mask[j * da..(j + 1) * da].fill(w as f32);
    }
    Some(X0Guide { target, mask })
}

/// Temporal ensembling of a freshly sampled chunk (normalized) with `h`.
fn ensemble(meta: &ModelMeta, h: &Handed, start: f64, x: &mut [f32]) {
    let Some(offset) = overlap(meta, h, start) else {
        return;
    };
    let (tp, da) = (meta.action.pred_horizon, meta.action.dim);
    // ACT's weights exp(-m i) with m = 0.01, i = 0 for the older prediction.
    let (w_old, w_new) = (1.0f32, (-0.01f32).exp());
    for j in 0..tp.saturating_sub(offset) {
        let old = (j + offset) * da;
        // Position and rotation features; the gripper's width stays the new chunk's (a
        // half-closed gripper grasps nothing).
        for k in 0..da.saturating_sub(1) {
            let v = &mut x[j * da + k];
            *v = (w_old * h.x[old + k] + w_new * *v) / (w_old + w_new);
        }
    }
}

impl Policy for DiffusionPolicy {
    fn reset(&mut self) {
        // A chunk still in flight belongs to the previous skill.
        let _ = self.join_pending();
        self.history.clear();
        self.framer.reset();
        self.handed = None;
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

    fn constrain(&mut self, constraints: &[Constraint]) -> bool {
        if self.steer_constraints {
            self.keep_away = constraints.to_vec();
            // The grasp the observation carries keeps the palm away too (the network follows
            // the grasp it is shown: it was trained on the expert's).
            self.framer.set_avoid(constraints);
        }
        self.steer_constraints
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
        if self.pipeline
            && is_next_chunk_observation(&self.meta, self.since_chunk, self.delay_periods)
            && self.pending.is_none()
        {
            self.start_pending(obs.stamp, scene, skill);
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
            return self.hand_out(start, result?);
        }
        self.push_observation(obs, scene, skill)?;
        let inputs = self.next_inputs(obs.stamp, scene, skill);
        let mut draws = inputs.step_noise.into_iter();
        let x = self.sampler()?.sample(
            &inputs.cond,
            inputs.noise,
            |_| draws.next().unwrap_or_default(),
            inputs.guide.as_ref(),
            inputs.steer.as_ref(),
        )?;
        self.hand_out(obs.stamp, x)
    }
}

impl Drop for DiffusionPolicy {
    fn drop(&mut self) {
        let _ = self.join_pending();
        if let (Some((pool, key)), Some(sampler)) = (self.pool.take(), self.sampler.take()) {
            pool.give_back(key, sampler);
        }
    }
}
