//! What each fuzz target does with one input. Shared by the fuzz targets (`fuzz_targets/`) and
//! by `tests/fuzz_regressions.rs`, which replays every input kept in `fuzz/regressions/` under
//! `cargo test`. The property is the same everywhere: any bytes end in a value or an error,
//! never a panic, a hang or an unbounded allocation.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use embody_agent::ros_msgs::*;
use embody_agent::types::SceneGraph;
use embody_agent::{EmbeddedPlanner, Instruction, Planner};
use embody_sim::{Scenario, World};

/// The repository root (fuzz/ is one level down).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|p| p.join("scenarios").is_dir())
        .expect("run from inside the repository")
        .to_path_buf()
}

fn standard() -> &'static (Arc<Scenario>, String, SceneGraph) {
    static S: OnceLock<(Arc<Scenario>, String, SceneGraph)> = OnceLock::new();
    S.get_or_init(|| {
        let s = Arc::new(
            Scenario::from_file(&repo().join("scenarios/table_clearing.toml"))
                .expect("the standard scenario loads"),
        );
        let urdf = s.read_urdf().expect("the standard URDF reads");
        let scene = embody_sim::runner::initial_scene(&s, 0).expect("the standard scene");
        (s, urdf, scene)
    })
}

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// Scenario TOML: validation, then the scene sampled and built for two seeds.
pub fn scenario(data: &[u8]) {
    let Some(t) = text(data) else { return };
    let path = repo().join("scenarios/fuzz.toml");
    if let Ok(s) = Scenario::from_str_at(t, &path) {
        let urdf = &standard().1;
        for seed in 0..2 {
            let _ = World::with_urdf_text(Arc::new(s.clone()), seed, urdf);
        }
    }
}

/// URDF: the arm's chain and kinematics, and the robot built into the standard scene.
pub fn urdf(data: &[u8]) {
    let Some(t) = text(data) else { return };
    let (s, _, _) = standard();
    if let Ok(mut w) = World::with_urdf_text(s.clone(), 0, t) {
        for _ in 0..3 {
            w.step();
        }
    }
}

/// Model metadata JSON and the noise scheduler it configures.
pub fn model_meta(data: &[u8]) {
    let Some(t) = text(data) else { return };
    if let Ok(meta) = embody_policies::meta::ModelMeta::from_json_str(t) {
        if let Ok(sched) = embody_policies::schedule::NoiseSchedule::new(&meta.scheduler) {
            use embody_policies::SamplerKind;
            for kind in [
                SamplerKind::Ddim,
                SamplerKind::Ddpm,
                SamplerKind::Consistency,
            ] {
                for steps in [1, 2, 10, 100] {
                    let _ = sched.sampler_timesteps(kind, steps);
                }
            }
        }
    }
}

/// A remote planner's answer, read against the standard scene.
pub fn plan_answer(data: &[u8]) {
    let Some(t) = text(data) else { return };
    let _ = embody_agent::read_answer(t, &standard().2);
}

/// An instruction to the embedded planner in the standard scene.
pub fn instruction(data: &[u8]) {
    let Some(t) = text(data) else { return };
    static PLANNER: OnceLock<EmbeddedPlanner> = OnceLock::new();
    let planner = PLANNER.get_or_init(EmbeddedPlanner::default);
    let _ = planner.plan(&Instruction::new(t), &standard().2, None);
}

/// CDR bytes as every message type embody reads (the first byte picks the type).
pub fn cdr(data: &[u8]) {
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    match which % 11 {
        0 => drop(JointStateMsg::from_cdr(bytes)),
        1 => drop(JointTrajectoryMsg::from_cdr(bytes)),
        2 => drop(TfMessage::from_cdr(bytes)),
        3 => drop(GripperCommandMsg::from_cdr(bytes)),
        4 => drop(ImageMsg::from_cdr(bytes)),
        5 => drop(BoolMsg::from_cdr(bytes)),
        6 => drop(StringMsg::from_cdr(bytes)),
        7 => drop(CameraInfoMsg::from_cdr(bytes)),
        9 => drop(ChunkRequestMsg::from_cdr(bytes)),
        10 => drop(ChunkReplyMsg::from_cdr(bytes)),
        _ => {
            // Round trip: whatever decodes encodes and decodes to the same message.
            if let Ok(m) = JointStateMsg::from_cdr(bytes) {
                let again = JointStateMsg::from_cdr(&m.to_cdr()).expect("re-decodes");
                assert_eq!(format!("{m:?}"), format!("{again:?}"));
            }
        }
    }
}

/// An MCAP log file, read and summarized, replayed in the simulator (at most 2,000 steps), and its
/// commands read as `replay --to-ros` would send them.
pub fn mcap(data: &[u8]) {
    let path = std::env::temp_dir().join(format!("embody-fuzz-{}.mcap", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    if let Ok(log) = embody_agent::log::read_log(&path) {
        let _ = log.complete();
        for m in log.on(embody_agent::log::EVENTS_TOPIC) {
            let _ = serde_json::from_slice::<serde_json::Value>(&m.data);
        }
        // Replay in the simulator, at most 2,000 physics steps (8 s at 240 Hz), with the names
        // the log's own arm gives (the Panda's when its scenario or URDF does not load).
        let names = embody_sim::replay::names_of(&log).unwrap_or_default();
        let _ = embody_sim::replay::verify_within(&log, &names, 2_000);
        // What `replay --to-ros` would send (the Panda's arm joints, as the standard URDF's).
        let joints: Vec<String> = (1..=7).map(|k| format!("panda_joint{k}")).collect();
        if let Ok(run) = embody_sim::recorded::recorded_run(&log, &names, &joints) {
            let _ = run.positions_at(run.commands[0].t);
        }
    }
    let _ = std::fs::remove_file(&path);
}

/// What a target runs on one input.
pub type Target = fn(&[u8]);

/// Every target by name, for the regression test.
pub const TARGETS: &[(&str, Target)] = &[
    ("scenario", scenario),
    ("urdf", urdf),
    ("model_meta", model_meta),
    ("plan_answer", plan_answer),
    ("instruction", instruction),
    ("cdr", cdr),
    ("mcap", mcap),
];
