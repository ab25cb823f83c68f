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
