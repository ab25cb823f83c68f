//! The model the repository ships (policies/models/table_clearing.*): its metadata describes
//! its ONNX file, it loads, and it acts on a real observation of the simulator.

use std::path::PathBuf;

use embody_agent::{Policy, Robot, Skill};
use embody_policies::{DiffusionOptions, DiffusionPolicy};
use sha2::{Digest, Sha256};

fn model() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("policies/models/table_clearing.json")
}

/// The robot's first observation and the scene of `table_clearing.toml` at `seed`.
fn first_observation(seed: u64) -> (embody_agent::Observation, embody_agent::SceneGraph) {
    let scenario = std::sync::Arc::new(
        embody_sim::Scenario::from_file(
            &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/table_clearing.toml"),
        )
        .unwrap(),
    );
    let scene = embody_sim::runner::initial_scene(&scenario, seed).unwrap();
    let mut robot = embody_sim::SimRobot::new(embody_sim::World::new(scenario, seed).unwrap());
    (robot.observe().unwrap(), scene)
}

#[test]
fn the_shipped_metadata_matches_its_onnx_file_and_records_its_provenance() {
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model()).unwrap()).unwrap();
    let onnx = model().with_file_name(meta["onnx"].as_str().unwrap());
    let digest = Sha256::digest(std::fs::read(&onnx).unwrap());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(meta["onnx_sha256"], hex.as_str());
    let t = &meta["training"];
    assert_eq!(t["data_hash"].as_str().unwrap().len(), 64, "{t}");
    assert!(
        t["command"].as_str().is_some() && t["steps"].as_u64().unwrap() > 0,
        "{t}"
    );
}

#[test]
fn the_shipped_model_loads_and_acts_on_a_simulated_scene() {
    let mut policy = DiffusionPolicy::load(&model(), DiffusionOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let (obs, scene) = first_observation(3);
    let object = scene.objects[0].id.clone();
    policy.reset();
    let chunk = policy
        .act(
            &obs,
            &scene,
            &Skill::Pick {
                object: object.clone(),
            },
        )
        .unwrap();
    assert_eq!(chunk.actions.len(), 15);
    assert_eq!(chunk.execute, 8);
    // A pick starts by moving towards the object, not away from it.
    let start = obs.ee_in_base.translation.vector;
    let target = scene
        .object(&object)
        .unwrap()
        .pose_in_base
        .translation
        .vector;
    let end = chunk.actions[7].ee_target_in_base.translation.vector;
    assert!(
        (end - target).norm() < (start - target).norm(),
        "start {start:?}, after 0.8 s {end:?}, object {target:?}"
    );
}

#[test]
fn each_skill_attempt_draws_its_own_noise_and_runs_repeat_exactly() {
    let (obs, scene) = first_observation(3);
    let pick = Skill::Pick {
        object: scene.objects[0].id.clone(),
    };
    let attempts = || {
        let mut policy = DiffusionPolicy::load(&model(), DiffusionOptions::default())
            .unwrap_or_else(|e| panic!("{e}"));
        (0..2)
            .map(|_| {
                policy.reset();
                let c = policy.act(&obs, &scene, &pick).unwrap();
                c.actions
                    .iter()
                    .flat_map(|a| a.ee_target_in_base.translation.vector.iter().copied())
                    .collect::<Vec<f64>>()
            })
            .collect::<Vec<_>>()
    };
    let first = attempts();
    // A retry from the same state is not a replay of the attempt that failed...
    assert_ne!(first[0], first[1]);
    // ...and the whole sequence is the same in every run.
    assert_eq!(first, attempts());
}

/// `embody run scenarios/table_clearing.toml --seed 0` with its default policy, logged to `log`.
fn run_seed_0(log: &std::path::Path) -> serde_json::Value {
    common::embody_json(&[
        "run",
        "scenarios/table_clearing.toml",
        "--seed",
        "0",
        "--json",
        "--quiet",
        "--log",
        log.to_str().unwrap(),
    ])
}

#[test]
fn embody_run_uses_the_shipped_model_for_table_clearing_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let r = run_seed_0(&dir.path().join("run.mcap"));
    let policy = r["policy"].as_str().unwrap();
    assert!(
        policy.starts_with("diffusion:") && policy.ends_with("policies/models/table_clearing.json"),
        "{r}"
    );
    // Measured at 0.956 of objects over seeds 0-99; one seed must clear most of the table.
    assert!(r["objects_cleared_rate"].as_f64().unwrap() >= 0.6, "{r}");
}

/// A learned policy does not say when a skill is done; the loop must not end a place before
/// the hand has left the bin, or the next pick starts from a state no demonstration has (the
/// hand down in the bin) and catches the bin's wall on its way out. Every pick after a place
/// must start with the hand above the rim by `place_clearance_m` (0.06 m), as the expert's do.
#[test]
fn a_learned_pick_after_a_place_starts_with_the_hand_out_of_the_bin() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("run.mcap");
    let r = run_seed_0(&log);
    assert!(
        r["policy"].as_str().unwrap().starts_with("diffusion:"),
        "{r}"
    );
    let samples: Vec<embody_agent::log::SampleRecord> = embody_agent::log::read_log(&log)
        .unwrap()
        .on(embody_agent::log::SAMPLE_TOPIC)
        .map(|m| serde_json::from_slice(&m.data).unwrap())
        .collect();
    let mut checked = 0;
    for w in samples.windows(2) {
        let (Skill::Place { into, .. }, Skill::Pick { .. }) = (&w[0].skill, &w[1].skill) else {
            continue;
        };
        let bin = w[1].scene.container(into).expect("the bin is seen");
        let rim_z = bin.pose_in_base.translation.z + bin.inner_extents.z;
        let above = w[1].ee_in_base.translation.z - rim_z;
        assert!(
            above >= 0.06 - 0.01,
            "the pick of {:?} at t = {} s starts with the hand {above:.3} m above the rim",
            w[1].skill,
            w[1].t
        );
        checked += 1;
    }
    // Seed 0 clears all five objects: four hand-overs from a place to a pick.
    assert!(checked >= 4, "{checked} place-to-pick hand-overs in {r}");
}

/// A place whose object drops on the way fails at once as `drop` (not after the 30 s skill
/// timeout, placing nothing), and the pick that follows starts with the hand withdrawn above
/// the bin's rim, as demonstrated picks do. Standard seed 89: the shipped model loses the red
/// cube on its way to the bin 3-5 s in, with the hand 0.11 m above the table (release build,
/// 2026-12-03).
#[test]
fn a_dropped_object_goes_back_to_a_pick_that_starts_from_above() {
    let dir = tempfile::tempdir().unwrap();
    let (log, report) = (dir.path().join("run.mcap"), dir.path().join("report.json"));
    common::embody_json(&[
        "run",
        "scenarios/table_clearing.toml",
        "--seed",
        "89",
        "--json",
        "--quiet",
        "--log",
        log.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    let episodes: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let skills = episodes[0]["report"]["skills"].as_array().unwrap();
    let drop = skills
        .iter()
        .position(|s| s["failure"]["kind"] == "drop")
        .unwrap_or_else(|| panic!("no dropped place in {skills:#?}"));
    let (start, end) = (
        skills[drop]["start_s"].as_f64().unwrap(),
        skills[drop]["end_s"].as_f64().unwrap(),
    );
    assert!(end - start < 5.0, "the drop took {start}..{end} s to end");
    let next = &skills[drop + 1];
    assert_eq!(next["skill"]["skill"], "pick", "{next}");
    assert_eq!(next["skill"]["object"], skills[drop]["skill"]["object"]);

    let samples: Vec<embody_agent::log::SampleRecord> = embody_agent::log::read_log(&log)
        .unwrap()
        .on(embody_agent::log::SAMPLE_TOPIC)
        .map(|m| serde_json::from_slice(&m.data).unwrap())
        .collect();
    let t0 = next["start_s"].as_f64().unwrap();
    let recovery: Vec<_> = samples
        .iter()
        .filter(|s| s.source == embody_agent::types::ChunkSource::Recovery)
        .collect();
    assert!(!recovery.is_empty(), "no withdrawal was logged");
    assert!(recovery.iter().all(|s| s.t >= t0 - 0.2 && s.t <= t0 + 3.0));
    let bin = &recovery[0].scene.containers[0];
    let rim_z = bin.pose_in_base.translation.z + bin.inner_extents.z;
    let first_pick = samples
        .iter()
        .find(|s| s.t > recovery.last().unwrap().t)
        .expect("the pick goes on after the withdrawal");
    assert_eq!(first_pick.source, embody_agent::types::ChunkSource::Policy);
    let above = first_pick.ee_in_base.translation.z - rim_z;
    assert!(
        above >= 0.07,
        "the policy takes over with the hand {above:.3} m above the rim"
    );
}

mod common;

/// The shipped distilled model (`table_clearing_consistency.*`): its metadata describes its
/// ONNX file and names its teacher by the teacher's ONNX digest; on real first observations its
/// one-call chunk goes where the teacher's ten-call chunk goes.
#[test]
fn the_shipped_distilled_model_follows_its_teacher() {
    let fast = model().with_file_name("table_clearing_consistency.json");
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&fast).unwrap()).unwrap();
    let digest = |name: &str| -> String {
        Sha256::digest(std::fs::read(model().with_file_name(name)).unwrap())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    assert_eq!(
        meta["onnx_sha256"],
        digest(meta["onnx"].as_str().unwrap()).as_str()
    );
    assert_eq!(
        meta["training"]["teacher_onnx_sha256"],
        digest("table_clearing.onnx").as_str(),
        "distilled from the shipped teacher as it is now"
    );
    assert_eq!(meta["scheduler"]["kind"], "consistency");
    let mut student =
        DiffusionPolicy::load(&fast, DiffusionOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let mut teacher = DiffusionPolicy::load(&model(), DiffusionOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut gaps = Vec::new();
    for seed in 0..6 {
        let (obs, scene) = first_observation(seed);
        let pick = Skill::Pick {
            object: scene.objects[0].id.clone(),
        };
        let end = |p: &mut DiffusionPolicy| {
            p.reset();
            let chunk = p.act(&obs, &scene, &pick).unwrap();
            chunk.actions[7].ee_target_in_base.translation.vector
        };
        gaps.push((end(&mut student) - end(&mut teacher)).norm());
    }
    // Different noise, and a student that is not the teacher: centimetres apart (1.7 to 3.0
    // cm when written), not the tens of centimetres of a chunk that heads elsewhere.
    gaps.sort_by(f64::total_cmp);
    assert!(gaps[gaps.len() / 2] < 0.05, "{gaps:?}");
}
