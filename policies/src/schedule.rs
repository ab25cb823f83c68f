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
    #[error("unknown sampler '{0}' (ddim or ddpm)")]
    UnknownSampler(String),
}

/// Scheduler settings as a model's metadata records them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulerConfig {
    /// `ddim` or `ddpm`: the sampler used unless the caller picks another.
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
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SamplerKind {
    Ddim,
    Ddpm,
}

impl std::str::FromStr for SamplerKind {
    type Err = ScheduleError;
    fn from_str(s: &str) -> Result<Self, ScheduleError> {
        match s {
            "ddim" => Ok(Self::Ddim),
            "ddpm" => Ok(Self::Ddpm),
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
            ("prediction_type", &self.prediction_type, "epsilon"),
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
        // The default step count must be one the schedule can run.
        self.check_steps(self.num_inference_steps)
            .map_err(|e| ScheduleError::OutOfRange {
                field: "num_inference_steps",
                why: e.to_string(),
            })
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
    fn run(kind: SamplerKind, guide: Option<&X0Guide>) -> Vec<f32> {
        let s = NoiseSchedule::new(&default_config()).unwrap();
        let steps = 10;
        let mut x: Vec<f32> = (0..12)
            .map(|i| ((i * 37 % 11) as f32 / 5.0) - 1.0)
            .collect();
        for t in s.timesteps(steps).unwrap() {
            let eps: Vec<f32> = x.iter().map(|v| 0.3 * v + 0.05).collect();
            let z: Vec<f32> = (0..x.len())
                .map(|i| ((i * 7 % 5) as f32 - 2.0) / 3.0)
                .collect();
            match kind {
                SamplerKind::Ddim => s.ddim_step_guided(&eps, t, steps, &mut x, guide),
                SamplerKind::Ddpm => s.ddpm_step_guided(&eps, t, steps, &mut x, &z, guide),
            }
        }
        x
    }

    #[test]
    fn inpainting_fixes_masked_elements_and_leaves_the_rest_to_the_network() {
        for kind in [SamplerKind::Ddim, SamplerKind::Ddpm] {
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
