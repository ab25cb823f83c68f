//! Guided sampling end to end: `embody eval --guidance` with the shipped model on the cluttered
//! scene reports the disturbance and safety figures, steers the run (different states from the
//! unguided run on the same seed) and stays deterministic.

mod common;

use common::embody_json;

fn eval(extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "eval",
        "scenarios/table_clearing_cluttered.toml",
        "--policy",
        "diffusion:policies/models/table_clearing.json",
        "--seed",
        "3007",
        "--json",
        "-q",
    ];
    args.extend(extra);
    embody_json(&args)
}

#[test]
fn guidance_steers_the_run_and_the_figures_are_reported() {
    let free = eval(&[]);
    let guided = eval(&["--guidance"]);
    for v in [&free, &guided] {
        assert!(v["disturbed_objects_per_episode"].as_f64().is_some(), "{v}");
        assert!(
            v["safety_interventions_per_episode"].as_f64().is_some(),
            "{v}"
        );
        assert!(v["per_episode"][0]["disturbed_objects"].is_u64(), "{v}");
    }
    assert_ne!(
        free["state_hash"][0], guided["state_hash"][0],
        "guidance changed nothing"
    );
    let again = eval(&["--guidance"]);
    assert_eq!(again["state_hash"][0], guided["state_hash"][0]);
}

fn keep_away_eval(policy: &str, constraints: &str) -> serde_json::Value {
    embody_json(&[
        "eval",
        "scenarios/table_clearing.toml",
        "--policy",
        policy,
        "--seed",
        "2003",
        "--instruction",
        "clear the table but keep away from the yellow cup",
        "--constraints",
        constraints,
        "--json",
        "-q",
    ])
}

/// "keep away from the cup" is a constraint in the plan; the simulator measures the hand's
/// closest approach to the cup; the diffusion policy steers by it (keep-out cost and grasp
/// choice) or, with `--constraints measure`, only has it measured; the expert steers its
/// grasps. On this seed the learned policy's palm passes 1 cm from the cup unsteered.
#[test]
fn a_keep_away_constraint_is_steered_by_and_measured() {
    let plan = embody_json(&[
        "plan",
        "scenarios/table_clearing.toml",
        "--seed",
        "2003",
        "--instruction",
        "clear the table but keep away from the yellow cup",
        "--json",
    ]);
    assert_eq!(
        plan["constraints"],
        serde_json::json!([{"kind": "keep_away", "object": "yellow_cup", "margin_m": 0.05}]),
        "{plan}"
    );
    let model = "diffusion:policies/models/table_clearing.json";
    let measured = keep_away_eval(model, "measure");
    let steered = keep_away_eval(model, "steer");
    let scripted = keep_away_eval("scripted", "steer");
    let closest = |v: &serde_json::Value| {
        let c = &v["per_episode"][0]["keep_away"][0];
        assert_eq!(c["object"], "yellow_cup", "{v}");
        c["min_distance_m"].as_f64().unwrap()
    };
    assert_eq!(measured["keep_away"]["steered"], false, "{measured}");
    assert_eq!(steered["keep_away"]["steered"], true, "{steered}");
    assert_eq!(scripted["keep_away"]["steered"], true, "{scripted}");
    assert_ne!(measured["state_hash"][0], steered["state_hash"][0]);
    assert!(closest(&measured) < 0.05, "{measured}");
    assert!(closest(&steered) > closest(&measured) + 0.02, "{steered}");
    assert!(closest(&scripted) >= 0.05, "{scripted}");
    for v in [&measured, &steered, &scripted] {
        assert_eq!(v["success_rate"], 1.0, "{v}");
    }
    // Without a constraint nothing is measured.
    let plain = eval(&[]);
    assert!(plain["keep_away"].is_null(), "{plain}");
}
