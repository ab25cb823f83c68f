//! Helpers for the end-to-end tests: run the real `embody` binary, read its JSON line.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn embody(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_embody"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("the embody binary starts")
}

/// Runs `embody` and requires success; the output (stderr is shown when it failed).
pub fn embody_ok(args: &[&str]) -> Output {
    let out = embody(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The last line of stdout, parsed as JSON.
pub fn last_json(out: &Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| {
        panic!(
            "last line is not JSON ({e}):\n{stdout}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Runs `embody`, requires success and returns its JSON line.
pub fn embody_json(args: &[&str]) -> serde_json::Value {
    let out = embody(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    last_json(&out)
}

/// Writes `text` as a scenario next to the shipped ones' relative URDF path.
pub fn scenario_variant(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Writes `text` as `DIR/scenarios/NAME` in a new temporary folder whose `assets` links to the
/// repository's, so the shipped scenarios' relative URDF path still resolves. Tests never write
/// into the repository's `scenarios/`.
pub fn scenario_in_temp(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let scen = dir.path().join("scenarios");
    std::fs::create_dir(&scen).unwrap();
    std::os::unix::fs::symlink(repo().join("assets"), dir.path().join("assets")).unwrap();
    let path = scenario_variant(&scen, name, text);
    (dir, path)
}

pub fn shipped_scenario() -> String {
    std::fs::read_to_string(repo().join("scenarios/table_clearing.toml")).unwrap()
}

/// The project's Python (set up by scripts/setup.sh).
pub fn python() -> PathBuf {
    std::env::var("EMBODY_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo().join(".venv/bin/python"))
}

/// One at a time: these run robots on the wall clock, and two of them at once on a 2-core
/// machine would be timing each other.
static WALL_CLOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

thread_local! {
    /// Whether this test's thread holds `WALL_CLOCK` for the whole test ([`solo`]).
    static SOLO: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Holds the wall clock for the rest of a test: its work outside the network namespace
/// (recording a log, reading one back) then cannot slow another test's robot either. (A
/// replay's tracking error went from 0.02 to 0.13 rad when a neighbour's recording ran beside
/// it.)
#[allow(dead_code)]
pub fn solo() -> Solo {
    let guard = WALL_CLOCK.lock().unwrap_or_else(|e| e.into_inner());
    SOLO.with(|s| s.set(true));
    Solo { _guard: guard }
}

pub struct Solo {
    _guard: std::sync::MutexGuard<'static, ()>,
}

impl Drop for Solo {
    fn drop(&mut self) {
        SOLO.with(|s| s.set(false));
    }
}

/// Runs `script` (bash) in a fresh network namespace whose loopback carries multicast, with
/// `$E` the embody binary.
pub fn in_private_network(script: &str) -> Output {
    let _one =
        (!SOLO.with(|s| s.get())).then(|| WALL_CLOCK.lock().unwrap_or_else(|e| e.into_inner()));
    let setup = "set -e; ip link set lo up multicast on; ip route add 224.0.0.0/4 dev lo; set +e;";
    Command::new("unshare")
        .args(["-n", "bash", "-c", &format!("{setup}\n{script}")])
        .env("E", env!("CARGO_BIN_EXE_embody"))
        .env_remove("ROS_DOMAIN_ID")
        .env_remove("ROS_SECURITY_ENABLE")
        .env_remove("ROS_SECURITY_KEYSTORE")
        .env_remove("ROS_SECURITY_STRATEGY")
        .env_remove("ROS_SECURITY_ENCLAVE_OVERRIDE")
        .current_dir(repo())
        .output()
        .expect("unshare runs (needs root or user namespaces)")
}

pub fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// `n` kill points (ms) in `[from_ms, from_ms + span_ms)` from a fixed seed, so that a failure
/// reproduces (xorshift64).
#[allow(dead_code)]
pub fn kill_points(n: usize, seed: u64, from_ms: u64, span_ms: u64) -> Vec<u64> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            from_ms + x % span_ms
        })
        .collect()
}

/// Records the scripted expert putting the red cube in the bin (standard scene, seed 0) at
/// `log`; returns the run's JSON summary.
#[allow(dead_code)]
pub fn record_red_cube(log: &std::path::Path) -> serde_json::Value {
    embody_json(&[
        "run",
        "scenarios/table_clearing.toml",
        "--policy",
        "scripted",
        "--instruction",
        "put the red cube in the bin",
        "--log",
        log.to_str().unwrap(),
        "--json",
    ])
}
