//! `embody policy serve`: the diffusion policy as a ROS 2 service that robots ask for chunks
//! (`--policy remote[:NAME]` on their side).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use embody_policies::DiffusionPolicy;

#[derive(Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub command: PolicyCommand,
}

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Serve a diffusion model as /embody/policy/<name>/compute_chunk until killed.
    Serve(ServeArgs),
}

#[derive(Args)]
pub struct ServeArgs {
    /// The model (.json with its .onnx).
    pub model: PathBuf,
    /// The server's name: robots ask it with `--policy remote:NAME`.
    #[arg(long, default_value = "default")]
    pub name: String,
    /// DDS domain (default: $ROS_DOMAIN_ID, else 0).
    #[arg(long)]
    pub domain_id: Option<u16>,
    /// Print one line per request.
    #[arg(long)]
    pub verbose_requests: bool,
    #[command(flatten)]
    pub security: super::security::SecurityArgs,
    #[command(flatten)]
    pub runtime: super::common::PolicyArgs,
}

pub fn run(a: PolicyArgs) -> Result<ExitCode> {
    match a.command {
        PolicyCommand::Serve(s) => serve(s),
    }
}

fn serve(a: ServeArgs) -> Result<ExitCode> {
    if !a
        .name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
        || a.name.is_empty()
    {
        anyhow::bail!(
            "--name {:?}: a server name is letters, digits and '_' (it becomes a ROS 2 name)",
            a.name
        );
    }
    crate::home::ensure_onnx_runtime(a.runtime.ort_lib.as_deref())?;
    let mut options = a.runtime.diffusion_options();
    // The server samples when asked; the robot side decides when to ask.
    options.pipeline = false;
    let policy = DiffusionPolicy::load(&a.model, options)
        .with_context(|| format!("cannot load the diffusion policy {}", a.model.display()))?;
    let domain_id = embody_ros::config::domain_id(a.domain_id);
    let security = a.security.resolve("/embody/policy")?;
    eprintln!(
        "serving {} as {} on domain {domain_id} ({:?}); robots use --policy remote:{}",
        a.model.display(),
        embody_ros::policy_service::service_name(&a.name),
        a.runtime.device,
        a.name
    );
    // Runs until the process is stopped (a signal), like `embody sim --ros`.
    let stop = AtomicBool::new(false);
    let verbose = a.verbose_requests;
    let mut n = 0u64;
    embody_ros::policy_service::serve(
        policy,
        &a.name,
        domain_id,
        &security,
        &stop,
        |robot, took, error| {
            n += 1;
            if verbose || error.is_some() {
                eprintln!(
                    "request {n} from {robot}: {:.1} ms{}",
                    took.as_secs_f64() * 1e3,
                    error.map(|e| format!(", error: {e}")).unwrap_or_default()
                );
            }
        },
    )?;
    Ok(ExitCode::SUCCESS)
}
