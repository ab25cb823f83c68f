//! Bad inputs end in a clear message and a non-zero exit code, never a panic.

mod common;

use common::{embody, scenario_in_temp, shipped_scenario};

fn assert_clean_failure(args: &[&str], expect: &[&str]) {
    let out = embody(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should fail: {args:?}");
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    for e in expect {
        assert!(stderr.contains(e), "expected '{e}' in: {stderr}");
    }
}

fn variant(name: &str, text: &str) -> (tempfile::TempDir, String) {
    let (dir, path) = scenario_in_temp(name, text);
    (dir, path.display().to_string())
}

#[test]
fn unknown_key() {
    let text = shipped_scenario().replace("min_gap = 0.04", "min_gap = 0.04\nmin_gapp = 0.1");
    let line = text
        .lines()
        .position(|l| l.starts_with("min_gapp"))
        .unwrap()
        + 1;
    let (_d, path) = variant("unknown.toml", &text);
    assert_clean_failure(
        &["run", &path],
        &["unknown.toml", "min_gapp", &format!("line {line}")],
    );
}

#[test]
fn negative_mass() {
    let text = shipped_scenario().replacen("mass = [0.1, 0.2]", "mass = -1.0", 1);
    let line = text
        .lines()
        .position(|l| l.starts_with("mass = -1.0"))
        .unwrap()
        + 1;
    let (_d, path) = variant("mass.toml", &text);
    assert_clean_failure(
        &["run", &path],
        &[&format!("mass.toml:{line}"), "objects[0].mass", "positive"],
    );
}

#[test]
fn object_outside_the_table() {
    let text = shipped_scenario().replace("y = [-0.22, 0.30]", "y = [-0.22, 0.90]");
    let (_d, path) = variant("off.toml", &text);
    assert_clean_failure(&["run", &path], &["off.toml", "spawn", "off the table"]);
}

#[test]
fn missing_urdf() {
    let text = shipped_scenario().replace("panda.urdf", "no_such_robot.urdf");
    let (_d, path) = variant("nourdf.toml", &text);
    assert_clean_failure(&["run", &path], &["no_such_robot.urdf", "cannot read URDF"]);
}

#[test]
fn malformed_urdf() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("broken.urdf"),
        "<robot name=\"p\"><link name=\"a\"><joint",
    )
    .unwrap();
    let text = shipped_scenario().replace("../assets/robots/panda/panda.urdf", "broken.urdf");
    let path = dir.path().join("s.toml");
    std::fs::write(&path, text).unwrap();
    assert_clean_failure(
        &["run", path.to_str().unwrap()],
        &["malformed URDF", "broken.urdf"],
    );
}

#[test]
fn missing_scenario_and_unknown_policy() {
    assert_clean_failure(&["run", "/nonexistent/x.toml"], &["/nonexistent/x.toml"]);
    assert_clean_failure(
        &["run", "scenarios/table_clearing.toml", "--policy", "magic"],
        &["unknown policy 'magic'"],
    );
}

#[test]
fn retry_limits_out_of_range() {
    assert_clean_failure(
        &[
            "eval",
            "scenarios/table_clearing.toml",
            "--skill-timeout-s",
            "0",
        ],
        &["--skill-timeout-s must be a positive number of seconds, got 0"],
    );
    assert_clean_failure(
        &[
            "run",
            "scenarios/table_clearing.toml",
            "--max-attempts",
            "0",
        ],
        &["--max-attempts must be at least 1"],
    );
}

#[test]
fn a_scenario_default_policy_that_cannot_load_names_the_scenario() {
    let text = shipped_scenario().replace(
        "policy = \"diffusion:../policies/models/table_clearing.json\"",
        "policy = \"diffusion:../policies/models/gone.json\"",
    );
    assert!(text.contains("gone.json"));
    let (_d, path) = variant("gone_policy.toml", &text);
    assert_clean_failure(
        &["run", &path],
        &[
            "default policy of",
            "gone_policy.toml",
            "gone.json",
            "--policy",
        ],
    );
}
