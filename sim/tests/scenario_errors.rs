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
    for name in [
        "table_clearing.toml",
        "table_clearing_cluttered.toml",
        "table_clearing_camera.toml",
        "table_clearing_varied.toml",
    ] {
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

fn varied() -> (String, PathBuf) {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/table_clearing_varied.toml");
    (std::fs::read_to_string(&path).unwrap(), path)
}

fn invalid_key(err: ScenarioError) -> (String, usize) {
    match err {
        ScenarioError::Invalid { key, line, .. } => (key, line),
        other => panic!("expected an invalid key, got: {other}"),
    }
}

#[test]
fn scene_family_keys_are_checked_by_name() {
    let (text, path) = varied();
    // A container with both a fixed position and placements, and one with neither.
    let both = text.replace(
        "wall_thickness = 0.01\nplacements",
        "wall_thickness = 0.01\nposition = [0.3, -0.4]\nplacements",
    );
    let (key, _) = invalid_key(Scenario::from_str_at(&both, &path).unwrap_err());
    assert_eq!(key, "containers[0].placements");
    let start = text.find("placements = [").unwrap();
    let end = start + text[start..].find("\n]\n").unwrap() + 3;
    let neither = format!("{}{}", &text[..start], &text[end..]);
    let (key, _) = invalid_key(Scenario::from_str_at(&neither, &path).unwrap_err());
    assert_eq!(key, "containers[0]");
    // A region whose range runs backwards, and one off the table.
    let backwards = text.replacen("x = [0.15, 0.60]", "x = [0.60, 0.15]", 1);
    let (key, line) = invalid_key(Scenario::from_str_at(&backwards, &path).unwrap_err());
    assert_eq!(key, "containers[0].placements[0].x");
    assert_eq!(line, line_of(&backwards, "x = [0.60, 0.15]"));
    let off = text.replacen("x = [0.60, 0.74]", "x = [3.0, 3.5]", 1);
    let (key, _) = invalid_key(Scenario::from_str_at(&off, &path).unwrap_err());
    assert_eq!(key, "containers[0].placements[2].x");
    // A total the counts cannot reach, and a scale the gripper cannot take.
    let total = text.replace("total = [3, 10]", "total = [3, 40]");
    let (key, _) = invalid_key(Scenario::from_str_at(&total, &path).unwrap_err());
    assert_eq!(key, "spawn.total");
    let scale = text.replacen("scale = [0.7, 1.3]", "scale = [0.7, 1.9]", 1);
    let (key, _) = invalid_key(Scenario::from_str_at(&scale, &path).unwrap_err());
    assert_eq!(key, "objects[0].size");
    // Count 0 is only allowed when a total draws the objects.
    let zero = varied().0.replace("total = [3, 10]\n", "");
    let (key, _) = invalid_key(Scenario::from_str_at(&zero, &path).unwrap_err());
    assert_eq!(key, "objects[0].count");
}
