//! Instructions executed in the simulator reach their goal state; a refused one moves nothing.

mod common;

use common::{embody_ok, last_json};

fn run(instruction: &str, seed: &str) -> (serde_json::Value, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let out = embody_ok(&[
        "run",
        "scenarios/table_clearing.toml",
        "--policy",
        "scripted",
        "--seed",
        seed,
        "--instruction",
        instruction,
        "--json",
        "--quiet",
        "--report",
        report.to_str().unwrap(),
    ]);
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    (last_json(&out), r[0].clone())
}

#[test]
fn three_instructions_reach_their_goal() {
    for (instruction, placed) in [
        (
            "put the red cube and the cups in the bin",
            vec!["red_cube", "yellow_cup"],
        ),
        (
            "clear everything except the blue box",
            vec!["red_cube", "green_can", "yellow_cup", "orange_cube"],
        ),
        (
            "first put the green can in the bin, then the orange cube",
            vec!["green_can", "orange_cube"],
        ),
    ] {
        let (summary, episode) = run(instruction, "3");
        assert_eq!(summary["success_rate"], 1.0, "{instruction}: {episode}");
        for o in episode["objects"].as_array().unwrap() {
            let id = o["id"].as_str().unwrap();
            if placed.contains(&id) {
                assert_eq!(
                    o["cleared"], true,
                    "{instruction}: {id} should be in the bin"
                );
            } else {
                assert_eq!(o["cleared"], false);
                assert!(
                    o["failure"].is_null(),
                    "{instruction}: {id} should stay put: {o}"
                );
            }
        }
    }
}

#[test]
fn a_refused_instruction_moves_nothing() {
    let (summary, episode) = run("throw the cup into the bin", "3");
    assert_eq!(summary["success_rate"], 0.0);
    assert_eq!(episode["report"]["plan_error"]["kind"], "plan_refused");
    assert!(episode["report"]["plan_error"]["detail"]
        .as_str()
        .unwrap()
        .contains("throwing objects is unsafe"));
    assert!(episode["report"]["skills"].as_array().unwrap().is_empty());
    for o in episode["objects"].as_array().unwrap() {
        assert!(o["failure"].is_null(), "nothing may move: {o}");
    }
    // Bit-identical to a world that was only left to settle: the same hash as another refusal.
    let (_, other) = run("hit the red cube", "3");
    assert_eq!(episode["state_hash"], other["state_hash"]);
}
