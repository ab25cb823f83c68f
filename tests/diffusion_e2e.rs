//! The diffusion policy inside `embody run`: real ONNX Runtime, the real simulator, logs that
//! replay. The model is the small untrained test model (policies/tests/data/tiny.*): its outputs
//! are noise, so these tests check the plumbing (chunks, receding horizon, safety, errors), not
//! skill; the trained model's success is the learning issue's.

mod common;

use std::path::{Path, PathBuf};

use common::{embody, embody_ok, last_json, repo, scenario_in_temp, shipped_scenario};
use embody_agent::log::{read_log, CHUNK_TOPIC};
use embody_agent::Robot;

const TINY: &str = "policies/tests/data/tiny.json";

/// A copy of the tiny model whose action statistics keep every output within a few millimetres
/// of the arm's home pose: noise the controller can track without tripping the safety filter.
fn tame_model(dir: &Path, scenario: &Path) -> PathBuf {
    let s = embody_sim::Scenario::from_file(scenario).unwrap();
    let world = embody_sim::World::new(std::sync::Arc::new(s), 0).unwrap();
    let mut robot = embody_sim::SimRobot::new(world);
    let obs = robot.observe().unwrap();
    let mut target = embody_policies::features::action_features(&embody_agent::Action {
        ee_target_in_base: obs.ee_in_base,
        gripper_width_m: 0.04,
    });
    let data = repo().join("policies/tests/data");
    std::fs::copy(data.join("tiny.onnx"), dir.join("tame.onnx")).unwrap();
    let mut meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("tiny.json")).unwrap()).unwrap();
    meta["onnx"] = "tame.onnx".into();
    let spread: Vec<f32> = [0.003; 3]
        .into_iter()
        .chain([0.002; 6])
        .chain([0.005])
        .collect();
    let lo: Vec<f32> = target.iter().zip(&spread).map(|(t, s)| t - s).collect();
    target.iter_mut().zip(&spread).for_each(|(t, s)| *t += s);
    meta["normalization"]["action"] = serde_json::json!({"min": lo, "max": target});
    let path = dir.join("tame.json");
    std::fs::write(&path, serde_json::to_string_pretty(&meta).unwrap()).unwrap();
    path
}

#[test]
fn diffusion_policy_runs_chunks_in_the_loop_deterministically_and_replays() {
    let dir = tempfile::tempdir().unwrap();
    let text = shipped_scenario().replace("time_limit_s = 90.0", "time_limit_s = 6.0");
    assert!(text.contains("time_limit_s = 6.0"));
    let (_scenario_dir, scenario) = scenario_in_temp("diffusion_e2e.toml", &text);
    let model = tame_model(dir.path(), &scenario);
    let spec = format!("diffusion:{}", model.display());
    let run_with = |log: &Path, extra: &[&str]| {
        let mut args = vec![
            "run",
            scenario.to_str().unwrap(),
            "--policy",
            &spec,
            "--json",
            "-q",
            "--log",
            log.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let out = embody_ok(&args);
        last_json(&out)
    };
    let a = run_with(&dir.path().join("a.mcap"), &[]);
    let b = run_with(&dir.path().join("b.mcap"), &[]);
    let sync = run_with(&dir.path().join("sync.mcap"), &["--no-pipeline"]);
    assert_eq!(a["policy"], spec.as_str());
    assert_eq!(a["state_hash"], b["state_hash"], "same seed, same run");
    let sim_s = a["mean_episode_sim_s"].as_f64().unwrap();
    assert!(
        (6.0..7.0).contains(&sim_s),
        "{sim_s} s: the run should last the time limit"
    );

    let log = read_log(&dir.path().join("a.mcap")).unwrap();
    let chunks: Vec<serde_json::Value> = log
        .on(CHUNK_TOPIC)
        .map(|m| serde_json::from_slice(&m.data).unwrap())
        .collect();
    // 6 s of 0.8 s chunks (Ta = 8 at 10 Hz), each the Tp - (To - 1) = 15 predicted actions.
    assert!(chunks.len() >= 7, "{} chunks", chunks.len());
    for c in &chunks {
        assert_eq!(c["actions"].as_array().unwrap().len(), 15, "{c}");
        assert_eq!(c["execute"], 8);
        assert_eq!(c["completes_skill"], false);
    }
    // Pipelined: every chunk after the first was computed from the observation one action
    // period (0.1 s) before it took over; without pipelining, from the one at the hand-over.
    let starts = |log: &Path| -> Vec<f64> {
        read_log(log)
            .unwrap()
            .on(CHUNK_TOPIC)
            .map(|m| {
                serde_json::from_slice::<serde_json::Value>(&m.data).unwrap()["start"]
                    .as_f64()
                    .unwrap()
            })
            .collect()
    };
    let piped = starts(&dir.path().join("a.mcap"));
    let synced = starts(&dir.path().join("sync.mcap"));
    assert_eq!(piped[0], 0.0);
    for k in 1..piped.len().min(synced.len()) {
        assert!((synced[k] - 0.8 * k as f64).abs() < 1e-6, "{synced:?}");
        assert!(
            (piped[k] - (0.8 * k as f64 - 0.1)).abs() < 1e-6,
            "{piped:?}"
        );
    }
    assert_ne!(a["state_hash"], sync["state_hash"]);
    let events = log.on(embody_agent::log::EVENTS_TOPIC).count();
    assert!(
        !String::from_utf8_lossy(
            &log.on(embody_agent::log::EVENTS_TOPIC)
                .flat_map(|m| m.data.clone())
                .collect::<Vec<u8>>()
        )
        .contains("safety_stop"),
        "{events} events"
    );

    let out = embody_ok(&[
        "replay",
        dir.path().join("a.mcap").to_str().unwrap(),
        "--verify",
        "--json",
    ]);
    assert_eq!(last_json(&out)["verify"]["bit_exact"], true);
}

#[test]
fn untrained_noise_is_stopped_by_the_safety_filter_not_executed() {
    let out = embody_ok(&[
        "run",
        "scenarios/table_clearing.toml",
        "--policy",
        &format!("diffusion:{TINY}"),
        "--json",
        "-q",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("safety stop"), "{stdout}");
    assert_eq!(last_json(&out)["success_rate"], 0.0);
}

#[test]
fn policy_errors_name_the_file_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("libonnxruntime.so");
    std::fs::write(&bogus, "not a library").unwrap();
    let cases: Vec<(Vec<String>, Vec<String>)> = vec![
        (
            vec![
                "--policy".into(),
                format!("diffusion:{TINY}"),
                "--ort-lib".into(),
                bogus.display().to_string(),
            ],
            vec![bogus.display().to_string(), "could not be loaded".into()],
        ),
        (
            vec![
                "--policy".into(),
                "diffusion:policies/models/nope.json".into(),
            ],
            vec!["nope.json".into(), "does not exist".into()],
        ),
        (
            vec![
                "--policy".into(),
                format!("diffusion:{TINY}"),
                "--device".into(),
                "cuda".into(),
            ],
            vec!["--features cuda".into()],
        ),
        (
            vec!["--policy".into(), "transformer".into()],
            vec!["unknown policy".into(), "diffusion:".into()],
        ),
    ];
    for (args, wants) in cases {
        let mut all = vec!["run".to_string(), "scenarios/table_clearing.toml".into()];
        all.extend(args.clone());
        let refs: Vec<&str> = all.iter().map(String::as_str).collect();
        let out = embody(&refs);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        for w in wants {
            assert!(stderr.contains(&w), "{args:?}: wanted '{w}' in:\n{stderr}");
        }
    }
}
