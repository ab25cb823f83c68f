//! End to end: the scripted expert clears the table in the real simulator through the CLI,
//! and runs are bit-exact across processes and thread counts.

mod common;

use common::{embody, last_json};

fn hashes(v: &serde_json::Value) -> Vec<(u64, String)> {
    v["state_hash"]
        .as_array()
        .expect("state_hash list")
        .iter()
        .map(|e| {
            (
                e["seed"].as_u64().unwrap(),
                e["state_hash"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn scripted_expert_clears_the_table_deterministically() {
    let two = embody(&[
        "run",
        "scenarios/table_clearing.toml",
        "--policy",
        "scripted",
        "--episodes",
        "20",
        "--seed",
        "0",
        "--threads",
        "2",
        "--json",
        "--quiet",
    ]);
    assert!(
        two.status.success(),
        "{}",
        String::from_utf8_lossy(&two.stderr)
    );
    let a = last_json(&two);
    assert_eq!(a["episodes"], 20);
    let success = a["success_rate"].as_f64().unwrap();
    assert!(success >= 0.95, "success rate {success}: {a}");
    for key in [
        "objects_cleared_rate",
        "mean_episode_sim_s",
        "sim_steps_per_s",
        "realtime_factor",
    ] {
        assert!(a[key].as_f64().unwrap() > 0.0, "{key} missing or zero: {a}");
    }

    // Another process, one thread: the same bits for every seed.
    let one = embody(&[
        "run",
        "scenarios/table_clearing.toml",
        "--policy",
        "scripted",
        "--episodes",
        "20",
        "--seed",
        "0",
        "--threads",
        "1",
        "--json",
        "--quiet",
    ]);
    assert!(one.status.success());
    let b = last_json(&one);
    assert_eq!(hashes(&a), hashes(&b));
    let distinct: std::collections::HashSet<_> = hashes(&a).into_iter().map(|(_, h)| h).collect();
    assert_eq!(
        distinct.len(),
        20,
        "different seeds must give different scenes"
    );
}

#[test]
fn the_table_prints_before_the_json_line() {
    let out = embody(&[
        "run",
        "scenarios/table_clearing.toml",
        "--policy",
        "scripted",
        "--episodes",
        "1",
        "--seed",
        "4",
        "--json",
        "--quiet",
    ]);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].contains("seed") && lines[0].contains("state hash"),
        "{stdout}"
    );
    assert!(lines[1].trim_start().starts_with('4'), "{stdout}");
    last_json(&out);
}
