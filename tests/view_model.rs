//! What the viewer shows, without Bevy: a log played back and the same episode watched live give
//! the same timeline (poses bit-identical, same plan, events and chunks), objects end where the
//! simulator says they are, and a damaged log plays up to where it was cut.

use std::collections::HashMap;
use std::sync::Arc;

use embody_agent::EmbeddedPlanner;
use embody_policies::{ExpertConfig, ScriptedExpert};
use embody_sim::runner::{run_sim_episode_watched, LogTarget, RunOptions};
use embody_sim::view::{load_log, BodyRole, LiveFeed, PlaybackControl, SceneModel, Timeline};
use embody_sim::{Scenario, World};

fn scenario() -> Arc<Scenario> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/table_clearing.toml");
    Arc::new(Scenario::from_file(&path).unwrap())
}

#[test]
fn live_feed_and_log_playback_show_the_same_run() {
    let scenario = scenario();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("ep.mcap");
    let seed = 4;
    let world = World::new(scenario.clone(), seed).unwrap();
    let scene = Arc::new(SceneModel::from_world(&world).unwrap());
    let (tx, rx) = crossbeam_channel::unbounded();
    // As fast as it goes: a closed control stops the pacing.
    let control = Arc::new(PlaybackControl::new(1.0));
    control.close();
    let mut feed = LiveFeed::new(scene.clone(), tx, control);
    let mut policy = ScriptedExpert::new(ExpertConfig::default());
    let opts = RunOptions {
        log: Some(LogTarget::File(log.clone())),
        ..RunOptions::default()
    };
    let result = run_sim_episode_watched(
        &scenario,
        seed,
        &mut policy,
        &EmbeddedPlanner::default(),
        &opts,
        Some(&mut feed),
    )
    .unwrap();
    drop(feed);
    assert!(result.success, "the scripted expert clears seed {seed}");
    let mut live = Timeline::default();
    for u in rx.iter() {
        live.push(u);
    }

    let (played_scene, played, lost) = load_log(&log).unwrap();
    assert!(lost.is_none());
    assert_eq!(played_scene.bodies.len(), scene.bodies.len());
    assert_eq!(live.frames.len(), played.frames.len());
    assert!(live.frames.len() > 1000, "a frame per control tick");
    for (a, b) in live.frames.iter().zip(&played.frames) {
        assert!((a.t - b.t).abs() < 1e-6, "{} vs {}", a.t, b.t);
        assert_eq!(a.poses, b.poses, "poses differ at t = {}", a.t);
    }
    assert_eq!(live.plans.len(), played.plans.len());
    assert_eq!(live.plans[0].steps, played.plans[0].steps);
    assert_eq!(live.events.len(), played.events.len());
    assert_eq!(live.chunks.len(), played.chunks.len());
    assert_eq!(played.outcome.as_ref().map(|o| o.success), Some(true));

    // Every object ends in the bin in the last frame, as the simulator judged.
    let bin = &world.containers[0];
    let last = played.frames.last().unwrap();
    let mut in_bin = 0;
    for (body, pose) in played_scene.bodies.iter().zip(&last.poses) {
        if let BodyRole::Object(_) = body.role {
            let p = nalgebra::Point3::from(pose.translation.vector);
            in_bin += usize::from(bin.contains(&p, 0.0, 0.05));
        }
    }
    assert_eq!(in_bin, world.objects.len());

    // The overlay's cursor: every plan step is current at some instant, in order.
    let mut seen = Vec::new();
    for f in played.frames.iter().step_by(10) {
        if let Some(i) = played.step_at(f.t) {
            if seen.last() != Some(&i) {
                seen.push(i);
            }
        }
    }
    let steps = played.plans[0].steps.len();
    assert_eq!(seen, (0..steps).collect::<Vec<_>>());
    assert_eq!(played.steps_done(played.end()), steps);
    // Chunks are found while skills run.
    let mid = played.frames[played.frames.len() / 3].t;
    assert!(played.chunk_at(mid).is_some());

    // A log cut in the middle plays its first part.
    let bytes = std::fs::read(&log).unwrap();
    let cut = dir.path().join("cut.mcap");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let (_, part, lost) = load_log(&cut).unwrap();
    assert!(lost.is_some());
    assert!(!part.frames.is_empty() && part.frames.len() < played.frames.len());
    assert_eq!(part.frames[0].poses, played.frames[0].poses);
}

#[test]
fn objects_missing_from_a_frame_keep_their_last_pose() {
    let scenario = scenario();
    let world = World::new(scenario, 0).unwrap();
    let scene = SceneModel::from_world(&world).unwrap();
    let first = scene.initial_frame();
    let mut objects = HashMap::new();
    let moved = nalgebra::Isometry3::translation(0.1, 0.2, 0.3);
    objects.insert(world.objects[0].instance.id.clone(), moved);
    let a = scene.frame(1.0, &HashMap::new(), 0.08, &objects, Some(&first));
    let b = scene.frame(2.0, &HashMap::new(), 0.08, &HashMap::new(), Some(&a));
    let k = scene
        .bodies
        .iter()
        .position(|b| b.role == BodyRole::Object(world.objects[0].instance.id.clone()))
        .unwrap();
    assert_eq!(a.poses[k], moved);
    assert_eq!(b.poses[k], moved);
}

#[test]
fn view_reports_bad_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.mcap");
    std::fs::write(&junk, b"not a log").unwrap();
    let err = load_log(&junk).unwrap_err().to_string();
    assert!(err.contains("junk.mcap"), "{err}");
    let out = common::embody(&["view", "scenarios/table_clearing.toml", "--size", "12"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--size"), "{stderr}");
}

mod common;
