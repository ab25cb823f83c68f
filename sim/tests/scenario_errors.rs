//! Bad scenario files are clear errors naming the file, the line and the key.

use std::path::{Path, PathBuf};

use embody_sim::{Scenario, ScenarioError};

fn shipped() -> (String, PathBuf) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/table_clearing.toml");
    (std::fs::read_to_string(&path).unwrap(), path)
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .expect("needle in text")
        + 1
}

#[test]
fn the_shipped_scenarios_parse() {
    for name in ["table_clearing.toml", "table_clearing_cluttered.toml"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../scenarios")
            .join(name);
        let s = Scenario::from_file(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(!s.objects.is_empty());
    }
}

#[test]
fn unknown_key_names_line_and_key() {
    let (text, path) = shipped();
    let bad = text.replace(
        "grip_force_n = 20.0",
        "grip_force_n = 20.0\ngrip_forse = 3.0",
    );
    let err = Scenario::from_str_at(&bad, &path).unwrap_err();
    let msg = err.to_string();
    let line = line_of(&bad, "grip_forse");
    assert!(msg.contains("grip_forse"), "{msg}");
    assert!(msg.contains(&format!("line {line}")), "{msg}");
    assert!(msg.contains("table_clearing.toml"), "{msg}");
}

#[test]
fn wrong_type_names_line() {
    let (text, path) = shipped();
    let bad = text.replace("time_limit_s = 90.0", "time_limit_s = \"ninety\"");
    let msg = Scenario::from_str_at(&bad, &path).unwrap_err().to_string();
    assert!(
        msg.contains(&format!("line {}", line_of(&bad, "ninety"))),
        "{msg}"
    );
}

#[test]
fn negative_mass_names_line_and_key() {
    let (text, path) = shipped();
    let bad = text.replacen("mass = [0.1, 0.25]", "mass = -0.2", 1);
    let err = Scenario::from_str_at(&bad, &path).unwrap_err();
    match &err {
        ScenarioError::Invalid { line, key, .. } => {
            assert_eq!(*line, line_of(&bad, "mass = -0.2"));
            assert_eq!(key, "objects[1].mass");
        }
        other => panic!("expected Invalid, got {other}"),
    }
    assert!(err.to_string().contains("table_clearing.toml:"), "{err}");
}

#[test]
fn objects_off_the_table_are_rejected() {
    let (text, path) = shipped();
    let bad = text.replace("x = [0.35, 0.65]", "x = [0.35, 1.65]");
    let err = Scenario::from_str_at(&bad, &path).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("spawn.x") && msg.contains("off the table"),
        "{msg}"
    );
    assert!(
        msg.contains(&format!(":{}:", line_of(&bad, "x = [0.35, 1.65]"))),
        "{msg}"
    );
}

#[test]
fn impossible_values_are_rejected() {
    let (text, path) = shipped();
    for (from, to, key) in [
        (
            "solver_iterations = 2",
            "solver_iterations = 0",
            "physics.solver_iterations",
        ),
        (
            "control_rate_hz = 120.0",
            "control_rate_hz = 100.0",
            "robot.control_rate_hz",
        ),
        (
            "size = [0.05, 0.05, 0.05]",
            "size = [0.05, 0.05]",
            "objects[0].size",
        ),
        (
            "size = [0.05, 0.06]",
            "size = [0.12, 0.06]",
            "objects[2].size",
        ),
        (
            "inner_size = [0.28, 0.22, 0.10]",
            "inner_size = [0.28, -0.22, 0.10]",
            "containers[0].inner_size[1]",
        ),
    ] {
        let bad = text.replacen(from, to, 1);
        let msg = Scenario::from_str_at(&bad, &path).unwrap_err().to_string();
        assert!(msg.contains(key), "{key}: {msg}");
    }
}

#[test]
fn missing_file_is_an_error() {
    let err = Scenario::from_file(Path::new("/nonexistent/scene.toml")).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/scene.toml"));
}
