//! Noise schedules and the DDIM / DDPM update rules, numerically matching diffusers'
//! `DDIMScheduler` and `DDPMScheduler` (squaredcos_cap_v2 betas, epsilon prediction, clipped
//! x0, "leading" timestep spacing), computed in f32 as they are.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The most training timesteps a schedule may have: diffusers' models use 100 to 1000; the cap
/// keeps a crafted file from making the loader allocate and compute for minutes.
pub const MAX_TRAIN_TIMESTEPS: usize = 100_000;

/// A scheduler setting this runtime cannot run, named by its metadata field.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum ScheduleError {
    #[error("scheduler.{field} is '{got}'; this runtime supports '{supported}'")]
    Unsupported {
        field: &'static str,
        got: String,
        supported: &'static str,
    },
    #[error("scheduler.{field}: {why}")]
    OutOfRange { field: &'static str, why: String },
    #[error(
        "{steps} inference steps: must be between 1 and the {train} training timesteps{extra}"
    )]
    Steps {
        steps: usize,
        train: usize,
        extra: String,
    },
    #[error("unknown sampler '{0}' (ddim, ddpm or consistency)")]
    UnknownSampler(String),
    /// A sampler asked of a network trained for another: DDIM and DDPM step with predicted
    /// noise, a consistency sampler with predicted clean samples.
    #[error(
        "the {sampler} sampler needs a network that predicts '{needs}'; this one predicts \
         '{predicts}' (scheduler.prediction_type)"
    )]
    SamplerMismatch {
        sampler: SamplerKind,
        needs: &'static str,
        predicts: String,
    },
}

/// Scheduler settings as a model's metadata records them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulerConfig {
    /// `ddim`, `ddpm` or `consistency`: the sampler used unless the caller picks another.
    pub kind: SamplerKind,
    pub num_inference_steps: usize,
    pub num_train_timesteps: usize,
    pub beta_schedule: String,
    pub prediction_type: String,
    pub clip_sample: bool,
    pub clip_sample_range: f32,
    pub set_alpha_to_one: bool,
    pub steps_offset: usize,
    pub timestep_spacing: String,
    pub ddpm_variance_type: String,
    /// A distilled (consistency-style) network only: the timesteps its sampler visits,
    /// noisiest first; `n` steps visit the first `n`. The first is where the teacher's sampler
    /// starts from pure noise; the others are where a second step re-noises to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistency_timesteps: Option<Vec<usize>>,
}

/// Most steps a consistency sampler lists: distilled samplers take one to a few.
pub const MAX_CONSISTENCY_STEPS: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SamplerKind {
    Ddim,
    Ddpm,
    /// A distilled one- or few-step sampler: the network predicts the clean chunk from a
    /// noisy one directly (prediction type `sample`); between steps the chunk is re-noised
    /// deterministically along the noise direction that prediction implies.
    Consistency,
}

impl SamplerKind {
    /// What the network must predict for this sampler (`scheduler.prediction_type`).
    pub fn prediction_type(self) -> &'static str {
        match self {
            Self::Ddim | Self::Ddpm => "epsilon",
            Self::Consistency => "sample",
        }
    }
}

impl std::fmt::Display for SamplerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Ddim => "ddim",
            Self::Ddpm => "ddpm",
            Self::Consistency => "consistency",
        })
    }
}

impl std::str::FromStr for SamplerKind {
    type Err = ScheduleError;
    fn from_str(s: &str) -> Result<Self, ScheduleError> {
        match s {
            "ddim" => Ok(Self::Ddim),
            "ddpm" => Ok(Self::Ddpm),
            "consistency" => Ok(Self::Consistency),
            _ => Err(ScheduleError::UnknownSampler(s.to_string())),
        }
    }
}

impl SchedulerConfig {
    /// The settings this runtime implements; anything else is refused with the field named.
    pub fn check(&self) -> Result<(), ScheduleError> {
        let want = [
            (
                "beta_schedule",
                self.beta_schedule.as_str(),
                "squaredcos_cap_v2",
            ),
            ("timestep_spacing", &self.timestep_spacing, "leading"),
            (
                "ddpm_variance_type",
                &self.ddpm_variance_type,
                "fixed_small",
            ),
        ];
        for (field, got, supported) in want {
            if got != supported {
                return Err(ScheduleError::Unsupported {
                    field,
                    got: got.to_string(),
                    supported,
                });
            }
        }
        if !["epsilon", "sample"].contains(&self.prediction_type.as_str()) {
            return Err(ScheduleError::Unsupported {
                field: "prediction_type",
                got: self.prediction_type.clone(),
                supported: "epsilon (ddim, ddpm) or sample (consistency)",
            });
        }
        self.check_sampler(self.kind)?;
        let range = |field, why: String| Err(ScheduleError::OutOfRange { field, why });
        let n = self.num_train_timesteps;
        if !(1..=MAX_TRAIN_TIMESTEPS).contains(&n) {
            return range(
                "num_train_timesteps",
                format!("{n}: must be between 1 and {MAX_TRAIN_TIMESTEPS}"),
            );
        }
        if self.steps_offset >= n {
            return range(
                "steps_offset",
                format!(
                    "{}: must be below num_train_timesteps ({n})",
                    self.steps_offset
                ),
            );
        }
        if !(self.clip_sample_range.is_finite() && self.clip_sample_range > 0.0) {
            return range(
                "clip_sample_range",
                format!("{}: must be positive and finite", self.clip_sample_range),
            );
        }
        if let Some(ts) = &self.consistency_timesteps {
            let bad = |why: String| range("consistency_timesteps", why);
            if ts.is_empty() || ts.len() > MAX_CONSISTENCY_STEPS {
                return bad(format!(
                    "{} timesteps: must be 1 to {MAX_CONSISTENCY_STEPS}",
                    ts.len()
                ));
            }
            if let Some(t) = ts.iter().find(|t| **t >= n) {
                return bad(format!("{t} is not below num_train_timesteps ({n})"));
            }
            if ts.windows(2).any(|w| w[1] >= w[0]) {
                return bad(format!("{ts:?}: must decrease, noisiest first"));
            }
        }
        // The default step count must be one the schedule can run.
        self.check_steps_for(self.kind, self.num_inference_steps)
            .map_err(|e| ScheduleError::OutOfRange {
                field: "num_inference_steps",
                why: e.to_string(),
            })
    }

    /// Whether the network these settings describe can drive `sampler`: the prediction type
    /// must be the sampler's, and a consistency sampler needs its timesteps.
    pub fn check_sampler(&self, sampler: SamplerKind) -> Result<(), ScheduleError> {
        if self.prediction_type != sampler.prediction_type() {
            return Err(ScheduleError::SamplerMismatch {
                sampler,
                needs: sampler.prediction_type(),
                predicts: self.prediction_type.clone(),
            });
        }
        if sampler == SamplerKind::Consistency && self.consistency_timesteps.is_none() {
            return Err(ScheduleError::OutOfRange {
                field: "consistency_timesteps",
                why: "missing: a consistency sampler needs the timesteps it visits".into(),
            });
        }
        Ok(())
    }

    /// [`Self::check_steps`] for `sampler`: a consistency sampler takes at most as many
    /// steps as it lists timesteps.
    pub fn check_steps_for(&self, sampler: SamplerKind, steps: usize) -> Result<(), ScheduleError> {
        match (sampler, &self.consistency_timesteps) {
            (SamplerKind::Consistency, Some(ts)) if steps == 0 || steps > ts.len() => {
                Err(ScheduleError::Steps {
                    steps,
                    train: self.num_train_timesteps,
                    extra: format!(" and at most the {} consistency timesteps {ts:?}", ts.len()),
                })
            }
            (SamplerKind::Consistency, _) => Ok(()),
            _ => self.check_steps(steps),
        }
    }

    /// Whether a sampler can take `steps` steps: at least one, no more than the training
    /// timesteps, and the last visited timestep (offset included) inside the schedule.
    pub fn check_steps(&self, steps: usize) -> Result<(), ScheduleError> {
        let n = self.num_train_timesteps;
        let err = |extra: String| ScheduleError::Steps {
            steps,
            train: n,
            extra,
        };
        if steps == 0 || steps > n {
            return Err(err(String::new()));
        }
        let last = (steps - 1) * (n / steps) + self.steps_offset;
        if last >= n {
            return Err(err(format!(
                " (with steps_offset {} the first timestep would be {last})",
                self.steps_offset
            )));
        }
        Ok(())
    }
}

/// The training noise schedule: betas and their cumulative products.
#[derive(Clone, Debug)]
pub struct NoiseSchedule {
    pub betas: Vec<f32>,
    pub alphas_cumprod: Vec<f32>,
    cfg: SchedulerConfig,
}

/// diffusers' `betas_for_alpha_bar` with the cosine transform (Nichol & Dhariwal 2021).
fn cosine_betas(n: usize) -> Vec<f32> {
    let alpha_bar = |t: f64| {
        ((t + 0.008) / 1.008 * std::f64::consts::FRAC_PI_2)
            .cos()
            .powi(2)
    };
    (0..n)
        .map(|i| {
            let t1 = i as f64 / n as f64;
            let t2 = (i + 1) as f64 / n as f64;
            (1.0 - alpha_bar(t2) / alpha_bar(t1)).min(0.999) as f32
        })
        .collect()
}

impl NoiseSchedule {
    pub fn new(cfg: &SchedulerConfig) -> Result<Self, ScheduleError> {
        cfg.check()?;
        let betas = cosine_betas(cfg.num_train_timesteps);
        let mut alphas_cumprod = Vec::with_capacity(betas.len());
        // torch's cumprod of a float32 tensor accumulates in double: so does this.
        let mut acc = 1.0f64;
        for b in &betas {
            acc *= (1.0 - b) as f64;
            alphas_cumprod.push(acc as f32);
        }
        Ok(Self {
            betas,
            alphas_cumprod,
            cfg: cfg.clone(),
        })
    }

    pub fn config(&self) -> &SchedulerConfig {
        &self.cfg
    }

    fn step_ratio(&self, steps: usize) -> usize {
        self.cfg.num_train_timesteps / steps
    }

    /// The timesteps a sampler visits, from noisiest to clean ("leading" spacing).
    pub fn timesteps(&self, steps: usize) -> Result<Vec<usize>, ScheduleError> {
        self.cfg.check_steps(steps)?;
        let ratio = self.step_ratio(steps);
        Ok((0..steps)
            .rev()
            .map(|k| k * ratio + self.cfg.steps_offset)
            .collect())
    }

    /// The timesteps `sampler` visits in `steps` steps, noisiest first.
    pub fn sampler_timesteps(
        &self,
        sampler: SamplerKind,
        steps: usize,
    ) -> Result<Vec<usize>, ScheduleError> {
        self.cfg.check_sampler(sampler)?;
        self.cfg.check_steps_for(sampler, steps)?;
        match (sampler, &self.cfg.consistency_timesteps) {
            (SamplerKind::Consistency, Some(ts)) => Ok(ts[..steps].to_vec()),
            _ => self.timesteps(steps),
        }
    }

    /// Clips a predicted clean sample as the steps clip theirs.
    pub fn clip(&self, x0: &mut [f32]) {
        if self.cfg.clip_sample {
            let r = self.cfg.clip_sample_range;
            for v in x0 {
                *v = v.clamp(-r, r);
            }
        }
    }

    /// One consistency-sampler step. The network predicted the clean chunk `x0` (clipped,
    /// and steered if guidance is on) from `sample` at `t`. With a `next` timestep, `sample`
    /// becomes `x0` noised to it along the noise direction `sample` and `x0` imply (as DDIM
    /// moves, so one seed gives one chunk and no noise is drawn); without, `sample` becomes
    /// `x0`. `guide` pulls the clean sample first, as in the other samplers.
    pub fn consistency_step(
        &self,
        x0: &[f32],
        t: usize,
        next: Option<usize>,
        sample: &mut [f32],
        guide: Option<&X0Guide>,
    ) {
        let alpha_t = self.alphas_cumprod[t];
        let (a, b) = (alpha_t.powf(0.5), (1.0 - alpha_t).powf(0.5).max(1e-12));
        let (keep, dir) = match next {
            Some(n) => {
                let alpha_n = self.alphas_cumprod[n];
                (alpha_n.powf(0.5), (1.0 - alpha_n).powf(0.5))
            }
            None => (1.0, 0.0),
        };
        for (i, (x, x0)) in sample.iter_mut().zip(x0).enumerate() {
            let eps = (*x - a * x0) / b;
            *x = keep * guided(guide, i, *x0) + dir * eps;
        }
    }

    fn alpha_prev(&self, prev_t: isize, final_alpha: f32) -> f32 {
        if prev_t >= 0 {
            self.alphas_cumprod[prev_t as usize]
        } else {
            final_alpha
        }
    }

    /// x0 from the noisy sample and the predicted noise, clipped like diffusers.
    fn pred_original(&self, sample: f32, eps: f32, alpha_t: f32) -> f32 {
        let x0 = (sample - (1.0 - alpha_t).powf(0.5) * eps) / alpha_t.powf(0.5);
        if self.cfg.clip_sample {
            let r = self.cfg.clip_sample_range;
            x0.clamp(-r, r)
        } else {
            x0
        }
    }

    /// The clean sample step `t` predicts from `sample` and the noise estimate `eps` (clipped
    /// as the steps clip it).
    pub fn predicted_x0(&self, sample: &[f32], eps: &[f32], t: usize) -> Vec<f32> {
        let alpha_t = self.alphas_cumprod[t];
        sample
            .iter()
            .zip(eps)
            .map(|(x, e)| self.pred_original(*x, *e, alpha_t))
            .collect()
    }

    /// The noise estimate under which step `t` would predict `x0` from `sample` (guidance
    /// moves the prediction and re-derives the estimate, classifier-guidance style).
    pub fn eps_for_x0(&self, sample: &[f32], x0: &[f32], t: usize) -> Vec<f32> {
        let alpha_t = self.alphas_cumprod[t];
        let (a, b) = (alpha_t.powf(0.5), (1.0 - alpha_t).powf(0.5).max(1e-12));
        sample
            .iter()
            .zip(x0)
            .map(|(x, x0)| (x - a * x0) / b)
            .collect()
    }

    /// One deterministic DDIM update (eta = 0) of `sample` in place.
    pub fn ddim_step(&self, eps: &[f32], t: usize, steps: usize, sample: &mut [f32]) {
        self.ddim_step_guided(eps, t, steps, sample, None);
    }

    /// [`Self::ddim_step`] with the predicted clean sample pulled toward `guide` first.
    pub fn ddim_step_guided(
        &self,
        eps: &[f32],
        t: usize,
        steps: usize,
        sample: &mut [f32],
        guide: Option<&X0Guide>,
    ) {
        let prev_t = t as isize - self.step_ratio(steps) as isize;
        let final_alpha = if self.cfg.set_alpha_to_one {
            1.0
        } else {
            self.alphas_cumprod[0]
        };
        let alpha_t = self.alphas_cumprod[t];
        let alpha_prev = self.alpha_prev(prev_t, final_alpha);
        let dir = (1.0 - alpha_prev).powf(0.5);
        let keep = alpha_prev.powf(0.5);
        for (i, (x, e)) in sample.iter_mut().zip(eps).enumerate() {
            let x0 = guided(guide, i, self.pred_original(*x, *e, alpha_t));
            *x = keep * x0 + dir * e;
        }
    }

    /// One DDPM update of `sample` in place; `noise` is the standard normal draw diffusers would
    /// take for t > 0 (ignored at t = 0).
    pub fn ddpm_step(
        &self,
        eps: &[f32],
        t: usize,
        steps: usize,
        sample: &mut [f32],
        noise: &[f32],
    ) {
        self.ddpm_step_guided(eps, t, steps, sample, noise, None);
    }

    /// [`Self::ddpm_step`] with the predicted clean sample pulled toward `guide` first.
    pub fn ddpm_step_guided(
        &self,
        eps: &[f32],
        t: usize,
        steps: usize,
        sample: &mut [f32],
        noise: &[f32],
        guide: Option<&X0Guide>,
    ) {
        let prev_t = t as isize - self.step_ratio(steps) as isize;
        let alpha_t = self.alphas_cumprod[t];
        let alpha_prev = self.alpha_prev(prev_t, 1.0);
        let beta_t = 1.0 - alpha_t;
        let beta_prev = 1.0 - alpha_prev;
        let current_alpha = alpha_t / alpha_prev;
        let current_beta = 1.0 - current_alpha;
        let c_x0 = alpha_prev.powf(0.5) * current_beta / beta_t;
        let c_xt = current_alpha.powf(0.5) * beta_prev / beta_t;
        let std = if t > 0 {
            ((beta_prev / beta_t * current_beta).max(1e-20)).powf(0.5)
        } else {
            0.0
        };
        for (i, (x, e)) in sample.iter_mut().zip(eps).enumerate() {
            let x0 = guided(guide, i, self.pred_original(*x, *e, alpha_t));
            let mean = c_x0 * x0 + c_xt * *x;
            *x = if t > 0 { mean + std * noise[i] } else { mean };
        }
    }
}

/// Inpainting of a sample (RePaint-style, in the prediction of the clean sample): before each
/// update, element i of the predicted x0 becomes `mask[i] * target[i] + (1 - mask[i]) * x0[i]`.
/// A mask of 1 fixes an element to its target in the final sample; a soft mask pulls the rest
/// toward it while the network keeps the whole sample consistent. Real-time chunking uses it to
/// make the next chunk agree with the actions that will still run while it is computed.
#[derive(Clone, Debug, PartialEq)]
pub struct X0Guide {
    pub target: Vec<f32>,
    pub mask: Vec<f32>,
}

fn guided(guide: Option<&X0Guide>, i: usize, x0: f32) -> f32 {
    match guide {
        Some(g) => {
            let m = g.mask.get(i).copied().unwrap_or(0.0);
            m * g.target.get(i).copied().unwrap_or(x0) + (1.0 - m) * x0
        }
        None => x0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn reference() -> Value {
        let text = include_str!("../tests/data/scheduler_reference.json");
        serde_json::from_str(text).unwrap()
    }

    fn floats(v: &Value) -> Vec<f32> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap() as f32)
            .collect()
    }

    pub(crate) fn default_config() -> SchedulerConfig {
        SchedulerConfig {
            kind: SamplerKind::Ddim,
            num_inference_steps: 10,
            num_train_timesteps: 100,
            beta_schedule: "squaredcos_cap_v2".into(),
            prediction_type: "epsilon".into(),
            clip_sample: true,
            clip_sample_range: 1.0,
            set_alpha_to_one: true,
            steps_offset: 0,
            timestep_spacing: "leading".into(),
            ddpm_variance_type: "fixed_small".into(),
            consistency_timesteps: None,
        }
    }

    fn max_diff(a: &[f32], b: &[f32]) -> f32 {
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max)
    }

    /// A whole DDIM or DDPM loop with a made-up noise predictor, guided by `guide`.
    pub(crate) fn consistency_config() -> SchedulerConfig {
        SchedulerConfig {
            kind: SamplerKind::Consistency,
            num_inference_steps: 1,
            prediction_type: "sample".into(),
            consistency_timesteps: Some(vec![90, 50]),
            ..default_config()
        }
    }

    fn run(kind: SamplerKind, guide: Option<&X0Guide>) -> Vec<f32> {
        let cfg = match kind {
            SamplerKind::Consistency => consistency_config(),
            _ => default_config(),
        };
        let s = NoiseSchedule::new(&cfg).unwrap();
        let steps = if kind == SamplerKind::Consistency {
            2
        } else {
            10
        };
        let mut x: Vec<f32> = (0..12)
            .map(|i| ((i * 37 % 11) as f32 / 5.0) - 1.0)
            .collect();
        let ts = s.sampler_timesteps(kind, steps).unwrap();
        for (k, &t) in ts.iter().enumerate() {
            let eps: Vec<f32> = x.iter().map(|v| 0.3 * v + 0.05).collect();
            let z: Vec<f32> = (0..x.len())
                .map(|i| ((i * 7 % 5) as f32 - 2.0) / 3.0)
                .collect();
            match kind {
                SamplerKind::Ddim => s.ddim_step_guided(&eps, t, steps, &mut x, guide),
                SamplerKind::Ddpm => s.ddpm_step_guided(&eps, t, steps, &mut x, &z, guide),
                SamplerKind::Consistency => {
                    let mut x0 = eps.clone();
                    s.clip(&mut x0);
                    s.consistency_step(&x0, t, ts.get(k + 1).copied(), &mut x, guide)
                }
            }
        }
        x
    }

    #[test]
    fn a_consistency_sampler_visits_its_listed_timesteps_and_needs_a_sample_predictor() {
        let s = NoiseSchedule::new(&consistency_config()).unwrap();
        let c = SamplerKind::Consistency;
        assert_eq!(s.sampler_timesteps(c, 1).unwrap(), vec![90]);
        assert_eq!(s.sampler_timesteps(c, 2).unwrap(), vec![90, 50]);
        assert!(matches!(
            s.sampler_timesteps(c, 3),
            Err(ScheduleError::Steps { steps: 3, .. })
        ));
        // DDIM on a network that predicts clean samples, and the reverse, are refused.
        assert!(matches!(
            s.sampler_timesteps(SamplerKind::Ddim, 10),
            Err(ScheduleError::SamplerMismatch {
                sampler: SamplerKind::Ddim,
                ..
            })
        ));
        let ddim = NoiseSchedule::new(&default_config()).unwrap();
        let e = ddim.sampler_timesteps(c, 1).unwrap_err();
        assert!(
            e.to_string().contains("predicts 'epsilon'") || e.to_string().contains("'epsilon'"),
            "{e}"
        );
        // Crafted timesteps are refused by name.
        for ts in [vec![], vec![50, 90], vec![100], vec![90; 17]] {
            let mut cfg = consistency_config();
            cfg.consistency_timesteps = Some(ts.clone());
            match NoiseSchedule::new(&cfg) {
                Err(ScheduleError::OutOfRange { field, .. }) => {
                    assert_eq!(field, "consistency_timesteps", "{ts:?}")
                }
                other => panic!("{ts:?}: {other:?}"),
            }
        }
        let mut cfg = consistency_config();
        cfg.consistency_timesteps = None;
        assert!(NoiseSchedule::new(&cfg).is_err());
        // One step returns the (clipped) prediction itself; a second step starts from it
        // noised to timestep 50 along the implied noise.
        let x0 = [0.5f32, -2.0, 0.1];
        let mut clipped = x0;
        s.clip(&mut clipped);
        assert_eq!(clipped, [0.5, -1.0, 0.1]);
        let mut x = [0.3f32, 0.2, -0.4];
        s.consistency_step(&clipped, 90, None, &mut x, None);
        assert_eq!(x, clipped);
        let start = [0.3f32, 0.2, -0.4];
        let mut x = start;
        s.consistency_step(&clipped, 90, Some(50), &mut x, None);
        let (a90, a50) = (s.alphas_cumprod[90], s.alphas_cumprod[50]);
        for i in 0..3 {
            let eps = (start[i] - a90.sqrt() * clipped[i]) / (1.0 - a90).sqrt();
            let want = a50.sqrt() * clipped[i] + (1.0 - a50).sqrt() * eps;
            assert!((x[i] - want).abs() < 1e-6, "{i}: {} vs {want}", x[i]);
        }
    }

    #[test]
    fn inpainting_fixes_masked_elements_and_leaves_the_rest_to_the_network() {
        for kind in [
            SamplerKind::Ddim,
            SamplerKind::Ddpm,
            SamplerKind::Consistency,
        ] {
            let free = run(kind, None);
            let target: Vec<f32> = (0..12).map(|i| 0.5 - i as f32 * 0.07).collect();
            // Mask 0: exactly the unguided sample.
            let zero = X0Guide {
                target: target.clone(),
                mask: vec![0.0; 12],
            };
            assert_eq!(run(kind, Some(&zero)), free);
            // Mask 1 on the first four: they end exactly at the target; a soft mask after them
            // ends between the free sample and the target.
            let mut mask = vec![0.0; 12];
            mask[..4].fill(1.0);
            mask[4..8].fill(0.5);
            let g = X0Guide {
                target: target.clone(),
                mask,
            };
            let x = run(kind, Some(&g));
            for i in 0..4 {
                assert!((x[i] - target[i]).abs() < 1e-6, "{kind:?} {i}: {x:?}");
            }
            for i in 4..8 {
                assert!(
                    (x[i] - target[i]).abs() < (free[i] - target[i]).abs() + 1e-6,
                    "{kind:?} {i}: guided {} free {} target {}",
                    x[i],
                    free[i],
                    target[i]
                );
            }
        }
    }

    #[test]
    fn betas_and_cumulative_alphas_match_diffusers() {
        let r = reference();
        let s = NoiseSchedule::new(&default_config()).unwrap();
        assert!(max_diff(&s.betas, &floats(&r["betas"])) <= 1e-7);
        assert!(max_diff(&s.alphas_cumprod, &floats(&r["alphas_cumprod"])) <= 1e-7);
    }

    #[test]
    fn timesteps_and_steps_match_diffusers() {
        let r = reference();
        let s = NoiseSchedule::new(&default_config()).unwrap();
        let sample = floats(&r["sample"]);
        let eps = floats(&r["model_output"]);
        let mut checked = 0;
        for case in r["cases"].as_array().unwrap() {
            let steps = case["steps"].as_u64().unwrap() as usize;
            let want: Vec<usize> = case["timesteps"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_u64().unwrap() as usize)
                .collect();
            assert_eq!(s.timesteps(steps).unwrap(), want, "{steps} steps");
            for st in case["step"].as_array().unwrap() {
                let t = st["t"].as_u64().unwrap() as usize;
                let mut x = sample.clone();
                if case["kind"] == "ddim" {
                    s.ddim_step(&eps, t, steps, &mut x);
                } else {
                    s.ddpm_step(&eps, t, steps, &mut x, &floats(&st["noise"]));
                }
                let d = max_diff(&x, &floats(&st["prev_sample"]));
                assert!(d <= 2e-6, "{} {steps} steps, t={t}: diff {d}", case["kind"]);
                checked += 1;
            }
        }
        assert!(checked > 200);
    }

    #[test]
    fn bad_step_counts_and_unsupported_settings_are_refused() {
        let s = NoiseSchedule::new(&default_config()).unwrap();
        assert!(matches!(
            s.timesteps(0),
            Err(ScheduleError::Steps { steps: 0, .. })
        ));
        assert!(matches!(
            s.timesteps(101),
            Err(ScheduleError::Steps { steps: 101, .. })
        ));
        let mut c = default_config();
        c.prediction_type = "v_prediction".into();
        let e = NoiseSchedule::new(&c).unwrap_err();
        assert!(
            matches!(&e, ScheduleError::Unsupported { field: "prediction_type", got, .. } if got == "v_prediction"),
            "{e}"
        );
        // Crafted values: each is refused by name, none panics or runs for long.
        for (field, edit) in [
            (
                "steps_offset",
                (|c: &mut SchedulerConfig| c.steps_offset = 100_000) as fn(&mut _),
            ),
            ("clip_sample_range", |c| c.clip_sample_range = -1.0),
            ("clip_sample_range", |c| c.clip_sample_range = f32::NAN),
            ("num_train_timesteps", |c| {
                c.num_train_timesteps = 2_000_000_000
            }),
            ("num_train_timesteps", |c| c.num_train_timesteps = 0),
            ("num_inference_steps", |c| c.num_inference_steps = 0),
        ] {
            let mut c = default_config();
            edit(&mut c);
            match NoiseSchedule::new(&c) {
                Err(ScheduleError::OutOfRange { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        // An offset that pushes the first timestep past the schedule for this step count.
        // One step from timestep 50 is fine; ten would start at 140 of 100.
        let mut c = default_config();
        c.steps_offset = 50;
        c.num_inference_steps = 1;
        let s = NoiseSchedule::new(&c).unwrap();
        assert_eq!(s.timesteps(1).unwrap(), vec![50]);
        assert!(matches!(
            s.timesteps(10),
            Err(ScheduleError::Steps { steps: 10, .. })
        ));
    }
}
