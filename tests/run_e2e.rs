//! End to end: the scripted expert clears the table in the real simulator through the CLI,
//! and runs are bit-exact across processes and thread counts.

mod common;

use common::{embody, embody_json, last_json};

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

/// Width and height of a PNG file (checks it decodes).
fn png_size(path: &std::path::Path) -> (u32, u32) {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    (info.width, info.height)
}

#[test]
fn eval_runs_several_families_against_a_baseline_on_the_same_seeds() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("eval.png");
    let v = embody_json(&[
        "eval",
        "scenarios/table_clearing.toml",
        "scenarios/table_clearing_varied.toml",
        "--policy",
        "scripted",
        "--baseline",
        "scripted",
        "--episodes",
        "2",
        "--seed",
        "40",
        "--plot",
        png.to_str().unwrap(),
        "--json",
        "--quiet",
    ]);
    let families = v["families"].as_array().expect("families");
    assert_eq!(families.len(), 2, "{v}");
    assert_eq!(families[0]["scenario"], "table_clearing");
    assert_eq!(families[1]["scenario"], "table_clearing_varied");
    let results = v["results"].as_array().unwrap();
    let baselines = v["baseline_results"].as_array().unwrap();
    for (i, f) in families.iter().enumerate() {
        // The same policy as its own baseline: the same seeds give the same bits.
        assert_eq!(results[i]["state_hash"], baselines[i]["state_hash"], "{v}");
        let (s, b) = (
            f["success_rate"].as_f64().unwrap(),
            f["baseline_success_rate"].as_f64().unwrap(),
        );
        match f["success_ratio"].as_f64() {
            Some(r) => assert!((r - s / b).abs() < 1e-12, "{f}"),
            None => assert_eq!(b, 0.0, "{f}"),
        }
        assert_eq!(results[i]["episodes"], 2);
    }
    // Drawn in Rust: no Python involved.
    assert_eq!(png_size(&png), (1560, 460));
}

#[test]
fn an_installed_binary_runs_the_learned_policy_from_any_folder() {
    // `cargo install` puts the binary somewhere else: no source tree, no .venv near it or the
    // working folder. ONNX Runtime then comes into the cache folder on first use.
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    let work = dir.path().join("work");
    let cache = dir.path().join("cache");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&work).unwrap();
    let exe = bin.join("embody");
    std::fs::copy(env!("CARGO_BIN_EXE_embody"), &exe).unwrap();
    let scenario = common::repo().join("scenarios/table_clearing.toml");
    let run = || {
        std::process::Command::new(&exe)
            .args([
                "run",
                scenario.to_str().unwrap(),
                "--episodes",
                "1",
                "--seed",
                "3",
                "--plot",
                "eval.png",
                "--json",
                "--quiet",
            ])
            .current_dir(&work)
            .env("EMBODY_CACHE_DIR", &cache)
            .env_remove("VIRTUAL_ENV")
            .env_remove("ORT_DYLIB_PATH")
            .env_remove("EMBODY_PYTHON")
            .env_remove("EMBODY_NO_INSTALL")
            .output()
            .unwrap()
    };
    let first = run();
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(first.status.success(), "{stderr}");
    assert!(stderr.contains("installing onnxruntime=="), "{stderr}");
    let v = last_json(&first);
    assert!(
        v["policy"].as_str().unwrap().starts_with("diffusion:"),
        "{v}"
    );
    assert!(cache.join("venv").is_dir());
    assert_eq!(png_size(&work.join("eval.png")), (1560, 460));
    // Once installed it is found, not installed again.
    let second = run();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success(), "{stderr}");
    assert!(!stderr.contains("installing"), "{stderr}");
    assert_eq!(last_json(&second)["state_hash"], v["state_hash"]);
}

#[test]
fn without_install_a_missing_runtime_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("embody");
    std::fs::copy(env!("CARGO_BIN_EXE_embody"), &exe).unwrap();
    let out = std::process::Command::new(&exe)
        .args([
            "run",
            common::repo()
                .join("scenarios/table_clearing.toml")
                .to_str()
                .unwrap(),
            "--quiet",
        ])
        .current_dir(dir.path())
        .env("EMBODY_CACHE_DIR", dir.path().join("cache"))
        .env("EMBODY_NO_INSTALL", "1")
        .env_remove("VIRTUAL_ENV")
        .env_remove("ORT_DYLIB_PATH")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("EMBODY_NO_INSTALL=1") && stderr.contains("no ONNX Runtime library found"),
        "{stderr}"
    );
}

/// The second arm (a UR5e written from UR's published kinematics and limits, with a
/// 2F-85-sized gripper) clears the standard table with the same expert, controller and safety
/// filter: nothing in them is the Panda's.
#[test]
fn a_ur5e_clears_the_standard_table_with_the_scripted_expert() {
    let v = embody_json(&[
        "eval",
        "scenarios/table_clearing_ur5e.toml",
        "--policy",
        "scripted",
        "--episodes",
        "20",
        "--seed",
        "0",
        "--json",
        "--quiet",
    ]);
    let success = v["success_rate"].as_f64().unwrap();
    assert!(success >= 0.95, "UR5e success {success}: {v}");
    assert_eq!(
        v["safety_interventions_per_episode"].as_f64(),
        Some(0.0),
        "{v}"
    );
}

/// The learned policy's network is loaded once and kept from episode to episode (a pool per
/// command): an episode run after others on a used network, on one or two threads, ends in the
/// state the same seed reaches alone.
#[test]
fn learned_policy_runs_do_not_depend_on_the_episodes_before_them() {
    let run = |seed: &str, episodes: &str, threads: &str| {
        hashes(&embody_json(&[
            "run",
            "scenarios/table_clearing.toml",
            "--seed",
            seed,
            "--episodes",
            episodes,
            "--threads",
            threads,
            "--json",
            "--quiet",
        ]))
    };
    let one_thread = run("0", "3", "1");
    assert_eq!(one_thread, run("0", "3", "2"));
    assert_eq!(one_thread[2..], run("2", "1", "1")[..]);
}
