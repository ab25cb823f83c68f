//! Pieces several subcommands share: loading scenarios, choosing policies, progress bars.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use embody_agent::Policy;
use embody_policies::{ExpertConfig, ScriptedExpert};
use embody_sim::Scenario;
use indicatif::{ProgressBar, ProgressStyle};

pub fn load_scenario(path: &Path) -> Result<Arc<Scenario>> {
    let s = Scenario::from_file(path).context("invalid scenario")?;
    // Build one world now so that a bad URDF or an impossible scene fails before any work starts.
    embody_sim::World::new(Arc::new(s.clone()), 0).context("cannot build the scenario's world")?;
    Ok(Arc::new(s))
}

/// A policy named on the command line: `scripted` (the scripted expert).
pub fn policy_factory(spec: &str) -> Result<impl Fn() -> Box<dyn Policy> + Sync> {
    match spec {
        "scripted" | "expert" => Ok(|| Box::new(ScriptedExpert::new(ExpertConfig::default())) as Box<dyn Policy>),
        other => bail!("unknown policy '{other}': available: scripted (the diffusion policy lands with its runtime)"),
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

/// The Python interpreter of the project's environment: `EMBODY_PYTHON`, else `.venv/bin/python`
/// in the current directory or the source tree, else `python3` on PATH.
pub fn python() -> Result<std::path::PathBuf> {
    if let Ok(p) = std::env::var("EMBODY_PYTHON") {
        return Ok(p.into());
    }
    for base in [
        Path::new(".").to_path_buf(),
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
    ] {
        let p = base.join(".venv/bin/python");
        if p.exists() {
            return Ok(p);
        }
    }
    Ok("python3".into())
}
