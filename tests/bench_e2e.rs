//! `embody bench sim` measures embody and, in the same run, the MuJoCo reference of the same
//! scene (the project's .venv, set up by scripts/setup.sh).

mod common;

use common::{embody, last_json};

#[test]
fn bench_sim_reports_both_simulators_and_the_ratio() {
    let out = embody(&[
        "bench",
        "sim",
        "--steps",
        "240",
        "--repeats",
        "2",
        "--episodes",
        "1",
        "--reference",
        "mujoco",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = last_json(&out);
    let ours = v["embody"]["scene_steps_per_s"]["median"].as_f64().unwrap();
    let theirs = v["reference"]["scene_steps_per_s"]["median"]
        .as_f64()
        .unwrap();
    assert!(ours > 0.0 && theirs > 0.0, "{v}");
    let ratio = v["ratio_scene_median"].as_f64().unwrap();
    assert!((ratio - ours / theirs).abs() < 1e-9);
    assert!(v["embody"]["episode_steps_per_s"].as_f64().unwrap() > 0.0);
}

#[test]
fn bench_control_reports_jitter_against_a_bare_loop() {
    let out = embody(&[
        "bench",
        "control",
        "--rate",
        "500",
        "--seconds",
        "0.3",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = last_json(&out);
    for k in ["reference", "controller"] {
        assert!(
            v[k]["p99_us"].as_f64().unwrap() >= v[k]["p50_us"].as_f64().unwrap(),
            "{v}"
        );
    }
    assert!(v["controller_tick_us"].as_f64().unwrap() > 0.0);
}
