//! `embody bench sim` measures embody and, in the same run, the MuJoCo reference of the same
//! scene (the project's .venv, set up by scripts/setup.sh).

mod common;

use common::embody_json;

#[test]
fn bench_sim_reports_both_simulators_and_the_ratio() {
    let v = embody_json(&[
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
    let v = embody_json(&[
        "bench",
        "control",
        "--rate",
        "500",
        "--seconds",
        "0.3",
        "--json",
    ]);
    // Both loops were measured, each within the 0.3 s it was given (150 ticks at 500 Hz): a
    // loop whose lateness reached the whole run would mean nothing was measured.
    for k in ["reference", "controller"] {
        let max = v[k]["max_us"].as_f64().unwrap();
        assert!(max.is_finite() && max < 300_000.0, "{v}");
        assert!(v[k]["missed"].as_u64().unwrap() < 150, "{v}");
    }
    assert!(v["controller_tick_us"].as_f64().unwrap() > 0.0);
}

#[test]
fn bench_planner_times_every_suite_request_against_the_budget() {
    let v = embody_json(&["bench", "planner", "--repeats", "2", "--json"]);
    // Every request of the shipped suite was planned in its scene (207 when it was written).
    assert!(v["requests"].as_u64().unwrap() >= 150, "{v}");
    let (p50, p99, max) = (
        v["p50_ms"].as_f64().unwrap(),
        v["p99_ms"].as_f64().unwrap(),
        v["max_ms"].as_f64().unwrap(),
    );
    assert!(p50 > 0.0 && p50 <= p99 && p99 <= max, "{v}");
    // The command itself fails when a request exceeds 50 ms; here it passed.
    assert!(max <= 50.0, "{v}");
}
