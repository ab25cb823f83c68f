//! What the CLI needs outside the repository, so an installed `embody` works from any folder:
//! its Python helper scripts (shipped inside the binary and written to the cache when used),
//! the Python that runs them, and ONNX Runtime (installed into the cache on first use).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use embody_policies::onnx::{cache_dir, cache_venv, find_library, venv_search_order};

/// The onnxruntime wheel embody installs when none is found; the same pin as
/// `scripts/requirements.txt` (a test checks they agree).
pub const ONNXRUNTIME_PIN: &str = "onnxruntime==1.31.1";

/// The Python files the CLI runs, as they were when this binary was built. Files of one folder
/// import each other, so a folder is written out whole.
const SCRIPTS: &[(&str, &str)] = &[
    (
        "scripts/bench_mujoco.py",
        include_str!("../scripts/bench_mujoco.py"),
    ),
    (
        "policies/train/train.py",
        include_str!("../policies/train/train.py"),
    ),
    (
        "policies/train/distill.py",
        include_str!("../policies/train/distill.py"),
    ),
    (
        "policies/train/export.py",
        include_str!("../policies/train/export.py"),
    ),
    (
        "policies/train/export_lerobot.py",
        include_str!("../policies/train/export_lerobot.py"),
    ),
    (
        "policies/train/layout.py",
        include_str!("../policies/train/layout.py"),
    ),
    (
        "policies/train/onnx_weights.py",
        include_str!("../policies/train/onnx_weights.py"),
    ),
    (
        "policies/train/model.py",
        include_str!("../policies/train/model.py"),
    ),
    (
        "policies/train/bench_reference.py",
        include_str!("../policies/train/bench_reference.py"),
    ),
    (
        "policies/train/scheduler_reference.py",
        include_str!("../policies/train/scheduler_reference.py"),
    ),
];

/// 64-bit FNV-1a of the shipped scripts: their folder in the cache, so two builds never share
/// stale copies.
fn scripts_version() -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (path, text) in SCRIPTS {
        for b in path.bytes().chain(text.bytes()) {
            h ^= b as u64;
            h = h.wrapping_mul(0x100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// A shipped script, written (once) into the cache; its path.
pub fn script(rel: &str) -> Result<PathBuf> {
    if !SCRIPTS.iter().any(|(p, _)| *p == rel) {
        bail!("no shipped script {rel}");
    }
    let base = cache_dir()
        .context("no cache folder: set EMBODY_CACHE_DIR (or HOME)")?
        .join("scripts")
        .join(scripts_version());
    for (path, text) in SCRIPTS {
        let to = base.join(path);
        if std::fs::read_to_string(&to).ok().as_deref() == Some(*text) {
            continue;
        }
        let dir = to.parent().unwrap_or(&base);
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        // Written beside and renamed: a concurrent embody never runs half a file.
        let tmp = to.with_extension(format!("py.{}", std::process::id()));
        std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, &to).with_context(|| format!("cannot write {}", to.display()))?;
    }
    Ok(base.join(rel))
}

/// The Python interpreter of the project's environment: `EMBODY_PYTHON`, else the first venv
/// of `venv_search_order` that has one (`$VIRTUAL_ENV`, a `.venv` near the working directory or
/// the executable, the cache's), else `python3` on PATH.
pub fn python() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("EMBODY_PYTHON").filter(|v| !v.is_empty()) {
        return Ok(p.into());
    }
    let venvs = venv_search_order();
    for v in venvs {
        let p = v.join("bin/python");
        if p.exists() {
            return Ok(p);
        }
    }
    Ok("python3".into())
}

/// Makes sure a model can find ONNX Runtime: when no library is found (see
/// `embody_policies::onnx::SEARCH_ORDER`), installs the pinned wheel into the cache's venv,
/// saying so, unless `EMBODY_NO_INSTALL=1`.
pub fn ensure_onnx_runtime(explicit: Option<&Path>) -> Result<()> {
    if explicit.is_some() {
        return Ok(());
    }
    let missing = match find_library(None) {
        Ok(_) => return Ok(()),
        Err(e) => e,
    };
    if std::env::var("EMBODY_NO_INSTALL").is_ok_and(|v| v == "1") {
        return Err(missing).context("EMBODY_NO_INSTALL=1: not installing ONNX Runtime");
    }
    let venv = cache_venv().context(
        "ONNX Runtime is not installed and there is no cache folder to install it into: \
         set EMBODY_CACHE_DIR, or run scripts/setup.sh",
    )?;
    let bootstrap = std::env::var_os("EMBODY_BOOTSTRAP_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| "python3".into());
    eprintln!(
        "embody: ONNX Runtime not found; installing {ONNXRUNTIME_PIN} into {} (once; \
         EMBODY_CACHE_DIR moves it, EMBODY_NO_INSTALL=1 stops this)",
        venv.display()
    );
    let py = venv.join("bin/python");
    if !py.exists() {
        std::fs::create_dir_all(venv.parent().unwrap_or(&venv))
            .with_context(|| format!("cannot create {}", venv.display()))?;
        run_step(
            Command::new(&bootstrap).args(["-m", "venv"]).arg(&venv),
            &format!(
                "creating the virtual environment with {} (Python 3 with venv is needed; \
                 EMBODY_BOOTSTRAP_PYTHON picks another)",
                bootstrap.display()
            ),
        )?;
    }
    run_step(
        Command::new(&py).args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--progress-bar",
            "on",
            ONNXRUNTIME_PIN,
        ]),
        &format!("pip install {ONNXRUNTIME_PIN} (from PyPI)"),
    )?;
    let lib = find_library(None).context("installed, but still not found")?;
    eprintln!("embody: ONNX Runtime ready: {}", lib.display());
    Ok(())
}

/// Runs one install step with its output on stderr (pip's progress bar is the progress line).
fn run_step(cmd: &mut Command, what: &str) -> Result<()> {
    eprintln!("embody: {what} ...");
    let status = cmd
        .stdout(std::process::Stdio::inherit())
        .stderr(std::process::Stdio::inherit())
        .status()
        .with_context(|| format!("cannot start {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status}); see the output above, or run scripts/setup.sh");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pinned_wheel_is_the_one_setup_installs() {
        let req = include_str!("../scripts/requirements.txt");
        assert!(
            req.lines().any(|l| l.trim() == ONNXRUNTIME_PIN),
            "scripts/requirements.txt and ONNXRUNTIME_PIN disagree"
        );
    }

    #[test]
    fn every_training_script_is_shipped() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        // Every Python file the training folder holds is shipped (they import each other).
        for e in std::fs::read_dir(root.join("policies/train")).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "py") {
                let rel = format!(
                    "policies/train/{}",
                    p.file_name().unwrap().to_string_lossy()
                );
                assert!(
                    SCRIPTS.iter().any(|(s, _)| *s == rel),
                    "{rel} is not shipped"
                );
            }
        }
    }
}
