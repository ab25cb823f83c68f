//! The agent loop on the wall clock: the control stage ticks in real time at 500 Hz while the
//! agent stage plans and acts on its own thread; a policy that misses its deadline gets the arm
//! held by the watchdog; in lockstep the same slow policy changes nothing; a policy that cannot
//! be reached (a dead policy server) ends the run with the arm held, whenever it happens.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::{embody, embody_json};
use embody_agent::log::read_log;
use embody_agent::ros_msgs::{JointTrajectoryMsg, RosMessage};
use embody_agent::{
    ActionChunk, EmbeddedPlanner, FailureKind, Observation, Pace, Policy, PolicyError, SceneGraph,
    Skill, WatchdogConfig,
};
use embody_policies::{ExpertConfig, ScriptedExpert};
use embody_sim::runner::{run_sim_episode, LogTarget, RunOptions};
use embody_sim::Scenario;

#[test]
fn a_realtime_run_at_500_hz_reaches_its_goal_and_replays_bit_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("rt.mcap");
    let v = embody_json(&[
        "run",
        "scenarios/table_clearing.toml",
        "--policy",
        "scripted",
        "--realtime",
        "--control-hz",
        "500",
        "--instruction",
        "put the red cube in the bin",
        "--log",
        log.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(v["success_rate"], 1.0, "{v}");
    let t = &v["control_timing"][0]["timing"];
    assert_eq!(t["rate_hz"], 500.0, "{v}");
    // The episode takes several seconds of robot time, all of it ticked on the wall clock.
    assert!(t["ticks"].as_u64().unwrap() > 2000, "{t}");
    // Wall time tracks robot time: a lockstep run of this would take a fraction of it.
    let sim_s = v["mean_episode_sim_s"].as_f64().unwrap();
    assert!(v["wall_s"].as_f64().unwrap() > 0.9 * (sim_s - 0.5), "{v}");

    // The log of a real-time run holds every command that was sent: replay reproduces it.
    let out = embody(&["replay", log.to_str().unwrap(), "--verify", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// The scripted expert, stalling for `stall` on its `at`-th chunk.
struct Stalling {
    inner: ScriptedExpert,
    at: usize,
    stall: Duration,
    calls: usize,
}

impl Policy for Stalling {
    fn reset(&mut self) {
        self.inner.reset();
    }
    fn act(
        &mut self,
        obs: &Observation,
        scene: &SceneGraph,
        skill: &Skill,
    ) -> Result<ActionChunk, PolicyError> {
        self.calls += 1;
        if self.calls == self.at {
            std::thread::sleep(self.stall);
        }
        self.inner.act(obs, scene, skill)
    }
}

fn scenario() -> Arc<Scenario> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    Arc::new(Scenario::from_file(&root.join("scenarios/table_clearing.toml")).unwrap())
}

#[test]
fn a_policy_that_misses_its_deadline_gets_the_arm_held() {
    let scenario = scenario();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("watchdog.mcap");
    let mut policy = Stalling {
        inner: ScriptedExpert::new(ExpertConfig::default()),
        at: 4,
        stall: Duration::from_millis(600),
        calls: 0,
    };
    let opts = RunOptions {
        instruction: Some("put the red cube in the bin".into()),
        log: Some(LogTarget::File(log.clone())),
        pace: Pace::WallClock(WatchdogConfig {
            policy_deadline_s: 0.15,
            ..WatchdogConfig::default()
        }),
        ..RunOptions::default()
    };
    let r = run_sim_episode(
        &scenario,
        0,
        &mut policy,
        &EmbeddedPlanner::default(),
        &opts,
    )
    .unwrap();
    let stopped = r.report.stopped.clone().expect("a stop");
    assert_eq!(stopped.kind, FailureKind::Watchdog, "{stopped}");
    assert!(
        stopped.detail.contains("no chunk from the policy"),
        "{stopped}"
    );
    assert!(!r.success);
    assert!(r.report.control_timing.is_some());

    // From the watchdog on, the robot is only told to stay where it is.
    let log = read_log(&log).unwrap();
    let watchdog_t = log
        .on("/embody/events")
        .map(|m| serde_json::from_slice::<serde_json::Value>(&m.data).unwrap())
        .find(|e| e["kind"] == "hold")
        .map(|e| e["t"].as_f64().unwrap())
        .expect("a watchdog event");
    let after: Vec<JointTrajectoryMsg> = log
        .on("/panda_arm_controller/joint_trajectory")
        .filter(|m| m.time_s() >= watchdog_t - 1e-9)
        .map(|m| JointTrajectoryMsg::from_cdr(&m.data).unwrap())
        .collect();
    assert!(!after.is_empty(), "no hold command after the watchdog");
    for t in &after {
        assert!(t.points[0].velocities.iter().all(|v| *v == 0.0), "moved");
        assert_eq!(t.points[0].positions, after[0].points[0].positions);
    }
}

#[test]
fn in_lockstep_a_slow_policy_changes_nothing() {
    let scenario = scenario();
    let opts = RunOptions {
        instruction: Some("put the red cube in the bin".into()),
        ..RunOptions::default()
    };
    let planner = EmbeddedPlanner::default();
    let mut fast = ScriptedExpert::new(ExpertConfig::default());
    let a = run_sim_episode(&scenario, 1, &mut fast, &planner, &opts).unwrap();
    let mut slow = Stalling {
        inner: ScriptedExpert::new(ExpertConfig::default()),
        at: 2,
        stall: Duration::from_millis(300),
        calls: 0,
    };
    let b = run_sim_episode(&scenario, 1, &mut slow, &planner, &opts).unwrap();
    assert!(a.success && b.success);
    assert_eq!(a.state_hash, b.state_hash);
    assert!(b.report.control_timing.is_none());
}

/// The scripted expert, unreachable from the first chunk of its `at`-th skill on (a remote
/// policy server that died between two skills).
struct GoneAt {
    inner: ScriptedExpert,
    at: usize,
    skills: usize,
    calls_after: usize,
}

impl Policy for GoneAt {
    fn reset(&mut self) {
        self.skills += 1;
        self.inner.reset();
    }
    fn act(
        &mut self,
        obs: &Observation,
        scene: &SceneGraph,
        skill: &Skill,
    ) -> Result<ActionChunk, PolicyError> {
        if self.skills >= self.at {
            self.calls_after += 1;
            return Err(PolicyError::Unavailable(
                "no chunk from the policy server test within 700 ms".into(),
            ));
        }
        self.inner.act(obs, scene, skill)
    }
}

/// Between skills no chunk runs, so no control deadline can fire: an unreachable policy must
/// still hold the arm and end the run (once, not retried per attempt and object), in lockstep
/// and on the wall clock alike.
#[test]
fn an_unreachable_policy_between_skills_holds_the_arm_and_ends_the_run() {
    let scenario = scenario();
    for pace in [Pace::Lockstep, Pace::WallClock(WatchdogConfig::default())] {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("gone.mcap");
        let opts = RunOptions {
            instruction: Some("clear the table".into()),
            log: Some(LogTarget::File(log.clone())),
            pace: pace.clone(),
            ..RunOptions::default()
        };
        let mut policy = GoneAt {
            inner: ScriptedExpert::new(ExpertConfig::default()),
            at: 3,
            skills: 0,
            calls_after: 0,
        };
        let r = run_sim_episode(
            &scenario,
            0,
            &mut policy,
            &EmbeddedPlanner::default(),
            &opts,
        )
        .unwrap();
        let stopped = r.report.stopped.clone().expect("a stop");
        assert_eq!(stopped.kind, FailureKind::Watchdog, "{pace:?}: {stopped}");
        assert!(stopped.detail.contains("policy server test"), "{stopped}");
        assert_eq!(
            policy.calls_after, 1,
            "{pace:?}: asked again after it was gone"
        );
        let skills = &r.report.skills;
        assert_eq!(skills.len(), 3, "{pace:?}: {skills:?}");
        assert!(skills[..2].iter().all(|s| s.success), "{skills:?}");
        assert_eq!(
            skills[2].failure.as_ref().map(|f| f.kind),
            Some(FailureKind::Watchdog)
        );
        // The hold is in the log, the log is complete and readable.
        let log = read_log(&log).unwrap();
        let holds = log
            .on("/embody/events")
            .map(|m| serde_json::from_slice::<serde_json::Value>(&m.data).unwrap())
            .filter(|e| e["kind"] == "hold")
            .count();
        assert_eq!(holds, 1, "{pace:?}");
    }
}
