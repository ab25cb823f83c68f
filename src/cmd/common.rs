//! Pieces several subcommands share: loading scenarios, choosing policies, progress bars.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use embody_agent::Policy;
use embody_policies::guidance::GuidanceConfig;
use embody_policies::{
    Chunking, Device, DiffusionOptions, DiffusionPolicy, ExpertConfig, NetworkPool, RuntimeOptions,
    SamplerKind, ScriptedExpert,
};
use embody_ros::policy_service::{RemoteOptions, RemotePolicy, RemoteStats};
use embody_sim::Scenario;
use indicatif::{ProgressBar, ProgressStyle};

pub fn load_scenario(path: &Path) -> Result<Arc<Scenario>> {
    let s = Scenario::from_file(path).context("invalid scenario")?;
    // Build one world now so that a bad URDF or an impossible scene fails before any work starts.
    embody_sim::World::new(Arc::new(s.clone()), 0).context("cannot build the scenario's world")?;
    Ok(Arc::new(s))
}

/// Which policy runs the skills, and how a learned one is run.
#[derive(clap::Args, Clone, Debug)]
pub struct PolicyArgs {
    /// `scripted` (the scripted expert) or `diffusion:<model>` (a model's .json or .onnx).
    /// Default: the scenario's `policy` (the shipped learned model for
    /// `table_clearing.toml`), else the scripted expert; `record` records the expert unless
    /// told otherwise.
    #[arg(long)]
    pub policy: Option<String>,
    /// ONNX Runtime library (default: $ORT_DYLIB_PATH, then the onnxruntime wheel in .venv).
    #[arg(long, value_name = "PATH")]
    pub ort_lib: Option<PathBuf>,
    /// Sampler for the diffusion policy: ddim or ddpm for a denoiser, consistency for a
    /// distilled model (default: the model's).
    #[arg(long)]
    pub sampler: Option<SamplerKind>,
    /// Denoising steps (default: the model's: 10 for DDIM, 1 for a distilled model; 2 is its
    /// other choice).
    #[arg(long)]
    pub denoise_steps: Option<usize>,
    /// Device for the network: cpu or cuda (cuda needs a build with `--features cuda`).
    #[arg(long, default_value = "cpu")]
    pub device: Device,
    /// Threads inside one network operator.
    #[arg(long, default_value_t = 1)]
    pub intra_threads: usize,
    /// Compute each chunk only when the previous one is done, instead of on a worker thread
    /// from the observation one action period earlier.
    #[arg(long, conflicts_with = "inference_delay_ms")]
    pub no_pipeline: bool,
    /// Emulated inference latency (ms): each next chunk is computed from the observation this
    /// long before it takes over (rounded up to the 100 ms observation period; default one
    /// period). Deterministic in lockstep.
    #[arg(long, value_name = "MS")]
    pub inference_delay_ms: Option<f64>,
    /// How the next chunk takes over: naive (switch), ensemble (ACT-style temporal
    /// ensembling) or rtc (real-time chunking: inpaint the actions that run during inference).
    #[arg(long, default_value = "naive")]
    pub chunking: Chunking,
    /// With `--policy remote[:NAME]`: the policy server's DDS domain (default: deploy's
    /// --domain-id, else $ROS_DOMAIN_ID, else 0).
    #[arg(long)]
    pub policy_domain_id: Option<u16>,
    /// With `--policy remote`: DDS-Security for the client (deploy sets its own enclave;
    /// elsewhere $ROS_SECURITY_* decide, as for any ROS 2 node).
    #[arg(skip)]
    pub policy_security: Option<embody_ros::security::Security>,
    /// Steer the diffusion policy with costs from the scene: keep-out boxes around the objects
    /// the skill is not about and the container walls, the table, the workspace and the arm's
    /// reach (see "Guided sampling" in the README). The safety filter still checks everything.
    #[arg(long)]
    pub guidance: bool,
    /// With --guidance: the fraction of the costs' pull applied in each denoising step.
    #[arg(long, default_value_t = GuidanceConfig::default().strength)]
    pub guidance_strength: f64,
    /// With --guidance: how far (m) the hand is kept from other objects.
    #[arg(long, default_value_t = GuidanceConfig::default().object_margin_m)]
    pub guidance_margin_m: f64,
    /// With --guidance: weight of the pull toward the executing chunk (0: none).
    #[arg(long, default_value_t = 0.0)]
    pub guidance_smoothness: f64,
    /// What the diffusion policy does with the plan's constraints ("keep away from the cup",
    /// "don't touch the box"): steer by them (keep-out costs in the sampler, with or without
    /// --guidance), or only have them measured (to compare).
    #[arg(long, value_enum, default_value = "steer")]
    pub constraints: ConstraintUse,
}

/// What a policy does with the plan's constraints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ConstraintUse {
    Steer,
    Measure,
}

impl PolicyArgs {
    /// The policy to run (`--policy`, else the scenario's, else the scripted expert) and its
    /// factory; an error names the scenario when the spec came from it.
    pub fn resolve(&self, scenario: Option<&Scenario>) -> Result<(String, PolicyFactory)> {
        if let Some(spec) = &self.policy {
            return Ok((spec.clone(), PolicyFactory::new(self, spec)?));
        }
        match scenario.and_then(|s| s.default_policy().map(|p| (s, p))) {
            Some((s, spec)) => {
                let f = PolicyFactory::new(self, &spec).with_context(|| {
                    format!(
                        "the default policy of {} (`policy` key; --policy overrides it)",
                        s.source.display()
                    )
                })?;
                Ok((spec, f))
            }
            None => Ok(("scripted".into(), PolicyFactory::Scripted)),
        }
    }

    pub fn diffusion_options(&self) -> DiffusionOptions {
        DiffusionOptions {
            runtime: RuntimeOptions {
                library: self.ort_lib.clone(),
                intra_threads: self.intra_threads,
                device: self.device,
            },
            sampler: self.sampler,
            steps: self.denoise_steps,
            seed: 0,
            pipeline: !self.no_pipeline,
            inference_delay_s: self.inference_delay_ms.map(|ms| ms / 1e3),
            chunking: self.chunking,
            guidance: self.guidance.then(|| GuidanceConfig {
                strength: self.guidance_strength,
                object_margin_m: self.guidance_margin_m,
                smoothness: self.guidance_smoothness,
                ..GuidanceConfig::default()
            }),
            steer_constraints: self.constraints == ConstraintUse::Steer,
        }
    }
}

/// Makes one policy per episode (each episode owns its policy's state; a diffusion policy's
/// loaded network is kept for the next episode's).
pub enum PolicyFactory {
    Scripted,
    Diffusion {
        model: PathBuf,
        options: DiffusionOptions,
        /// Sessions kept between episodes (see `NetworkPool`).
        networks: NetworkPool,
    },
    /// A policy server (`embody policy serve`) over ROS 2.
    Remote {
        options: RemoteOptions,
        stats: Arc<Mutex<RemoteStats>>,
    },
}

impl PolicyFactory {
    /// Checks `spec` (see [`PolicyArgs::spec`]); a model is loaded once here so that a bad one
    /// fails before any work.
    pub fn new(a: &PolicyArgs, spec: &str) -> Result<Self> {
        match spec.split_once(':') {
            None if matches!(spec, "scripted" | "expert") => Ok(Self::Scripted),
            Some(("diffusion", model)) if !model.is_empty() => {
                let options = a.diffusion_options();
                let model = PathBuf::from(model);
                // A missing model is named before anything is installed for it.
                if !model.exists() {
                    bail!(
                        "cannot load the diffusion policy: model file {} does not exist",
                        model.display()
                    );
                }
                crate::home::ensure_onnx_runtime(a.ort_lib.as_deref())?;
                // Dropped at once: its network waits in the pool for the first episode.
                let networks = NetworkPool::new();
                DiffusionPolicy::load_pooled(&model, options.clone(), &networks).with_context(
                    || format!("cannot load the diffusion policy {}", model.display()),
                )?;
                Ok(Self::Diffusion {
                    model,
                    options,
                    networks,
                })
            }
            None if spec == "remote" => Self::remote(a, "default"),
            Some(("remote", name)) if !name.is_empty() => Self::remote(a, name),
            _ => bail!(
                "unknown policy '{spec}': available: scripted, diffusion:<model.json>, \
                 remote[:<server name>]"
            ),
        }
    }

    /// Connects once, so that a missing server fails before any work.
    fn remote(a: &PolicyArgs, name: &str) -> Result<Self> {
        let domain_id = embody_ros::config::domain_id(a.policy_domain_id);
        let security = match &a.policy_security {
            Some(s) => s.clone(),
            None => super::security::SecurityArgs::default().resolve("/embody/deploy")?,
        };
        let options = RemoteOptions {
            name: name.to_string(),
            domain_id,
            security,
            robot: format!("embody-{}", std::process::id()),
            answer_within: Duration::from_secs(10),
            connect_within: Duration::from_secs(15),
            inference_delay_s: if a.no_pipeline {
                Some(0.0)
            } else {
                a.inference_delay_ms.map(|ms| ms / 1e3)
            },
            chunking: a.chunking,
        };
        let stats = Arc::new(Mutex::new(RemoteStats::default()));
        RemotePolicy::connect(options.clone(), stats.clone())
            .with_context(|| format!("cannot reach the policy server '{name}'"))?;
        Ok(Self::Remote { options, stats })
    }

    /// With a remote policy: how long to wait for a chunk before giving up on it (on the wall
    /// clock, longer than the watchdog's deadline, so that its hold comes first).
    pub fn with_answer_within(mut self, d: Duration) -> Self {
        if let Self::Remote { options, .. } = &mut self {
            options.answer_within = d;
        }
        self
    }

    /// With --guidance: the safety filter's workspace as one of the costs.
    pub fn with_guidance_workspace(mut self, lo: [f64; 3], hi: [f64; 3]) -> Self {
        if let Self::Diffusion { options, .. } = &mut self {
            if let Some(g) = &mut options.guidance {
                g.workspace = Some((lo.into(), hi.into()));
            }
        }
        self
    }

    /// A remote policy's round-trip statistics so far.
    pub fn remote_stats(&self) -> Option<serde_json::Value> {
        match self {
            Self::Remote { stats, .. } => stats.lock().ok().map(|s| s.to_json()),
            _ => None,
        }
    }

    pub fn make(&self) -> Result<Box<dyn Policy>, embody_agent::PolicyError> {
        match self {
            Self::Scripted => Ok(Box::new(ScriptedExpert::new(ExpertConfig::default()))),
            Self::Diffusion {
                model,
                options,
                networks,
            } => DiffusionPolicy::load_pooled(model, options.clone(), networks)
                .map(|p| Box::new(p) as Box<dyn Policy>)
                .map_err(|e| embody_agent::PolicyError::Other(e.to_string())),
            Self::Remote { options, stats } => {
                RemotePolicy::connect(options.clone(), stats.clone())
                    .map(|p| Box::new(p) as Box<dyn Policy>)
                    .map_err(|e| embody_agent::PolicyError::Other(e.to_string()))
            }
        }
    }
}

pub fn progress(len: u64, what: &str, hidden: bool) -> ProgressBar {
    if hidden {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg} [{bar:30}] {pos}/{len} ({elapsed}, eta {eta})",
        )
        .expect("the template is valid")
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

pub fn threads_or_all(threads: Option<usize>) -> usize {
    threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    })
}

pub use crate::home::python;

/// Which seeds a batch of episodes runs, on how many threads: the flags `run`, `eval` and
/// `record` share.
#[derive(clap::Args, Clone, Debug)]
pub struct BatchArgs {
    /// Number of episodes; seeds are seed, seed+1, ... (default: 1; `record`: 10).
    #[arg(long)]
    pub episodes: Option<u64>,
    /// First seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Run only shard I of N (0-based) of the seeds: a contiguous block, so N processes
    /// together run the whole range. `embody merge` joins their outputs.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<super::shard::Shard>,
}

impl BatchArgs {
    pub fn episodes_or(&self, default: u64) -> u64 {
        self.episodes.unwrap_or(default)
    }

    /// The seeds this process runs, in order: all of them, or its shard's block.
    pub fn seeds(&self, default_episodes: u64) -> Result<Vec<u64>> {
        let n = self.episodes_or(default_episodes);
        let end = self
            .seed
            .checked_add(n)
            .with_context(|| format!("--seed {} plus --episodes {n} overflows", self.seed))?;
        let all: Vec<u64> = (self.seed..end).collect();
        Ok(match self.shard {
            Some(shard) => shard.part(&all),
            None => all,
        })
    }

    /// With --shard: what the output records about the whole run.
    pub fn shard_info(&self, default_episodes: u64) -> Option<super::shard::ShardInfo> {
        self.shard
            .map(|s| super::shard::ShardInfo::new(s, self.seed, self.episodes_or(default_episodes)))
    }
}

/// How plans are made.
#[derive(clap::Args, Clone, Debug)]
pub struct PlannerArgs {
    /// `embedded` (offline grammar, the default) or `openai` (any OpenAI-compatible
    /// chat-completions server: vLLM, Ollama, llama.cpp, hosted APIs).
    #[arg(long, default_value = "embedded")]
    pub planner: String,
    /// Base URL of the chat-completions server, e.g. http://localhost:11434/v1.
    #[arg(long)]
    pub planner_url: Option<String>,
    #[arg(long)]
    pub planner_model: Option<String>,
    /// Limit on each request to the planner server (s).
    #[arg(long, default_value_t = 60.0)]
    pub planner_timeout_s: f64,
    /// Re-asks after an invalid answer.
    #[arg(long, default_value_t = 2)]
    pub planner_retries: usize,
    /// Environment variable holding the API key (never logged).
    #[arg(long, default_value = "EMBODY_PLANNER_API_KEY")]
    pub planner_api_key_env: String,
}

pub fn make_planner(a: &PlannerArgs) -> Result<Box<dyn embody_agent::Planner>> {
    match a.planner.as_str() {
        "embedded" => Ok(Box::new(embody_agent::EmbeddedPlanner::default())),
        "openai" => {
            let defaults = embody_agent::VlmConfig::default();
            if !(a.planner_timeout_s.is_finite() && a.planner_timeout_s > 0.0) {
                bail!("--planner-timeout-s must be a positive number of seconds");
            }
            Ok(Box::new(embody_agent::VlmPlanner::new(
                embody_agent::VlmConfig {
                    url: a.planner_url.clone().unwrap_or(defaults.url),
                    model: a.planner_model.clone().unwrap_or(defaults.model),
                    api_key: std::env::var(&a.planner_api_key_env)
                        .ok()
                        .filter(|k| !k.is_empty()),
                    timeout: std::time::Duration::from_secs_f64(a.planner_timeout_s),
                    max_retries: a.planner_retries,
                },
            )))
        }
        other => bail!("unknown planner '{other}': available: embedded, openai"),
    }
}

/// The box the TCP must stay in (base frame, m): the scenario's by default (its spawn region
/// and containers with margins), or a robot's own cell given corner by corner.
#[derive(clap::Args, Clone, Debug)]
pub struct WorkspaceArgs {
    /// Lowest corner of the TCP workspace (instead of the scenario's).
    #[arg(long, num_args = 3, value_names = ["X", "Y", "Z"], allow_hyphen_values = true)]
    pub workspace_min: Option<Vec<f64>>,
    /// Highest corner of the TCP workspace (instead of the scenario's).
    #[arg(long, num_args = 3, value_names = ["X", "Y", "Z"], allow_hyphen_values = true)]
    pub workspace_max: Option<Vec<f64>>,
}

impl WorkspaceArgs {
    pub fn resolve(&self, scenario: &Scenario) -> Result<([f64; 3], [f64; 3])> {
        let (mut lo, mut hi) = scenario.tcp_workspace();
        for (flag, given, corner) in [
            ("--workspace-min", &self.workspace_min, &mut lo),
            ("--workspace-max", &self.workspace_max, &mut hi),
        ] {
            if let Some(v) = given {
                if v.len() != 3 || v.iter().any(|x| !x.is_finite()) {
                    bail!("{flag} takes three finite numbers (x y z in metres), got {v:?}");
                }
                corner.copy_from_slice(v);
            }
        }
        if (0..3).any(|i| lo[i] >= hi[i]) {
            bail!(
                "the TCP workspace is empty: min {lo:?} is not below max {hi:?} on every axis \
                 (--workspace-min / --workspace-max, or the scenario's)"
            );
        }
        Ok((lo, hi))
    }
}
