//! Fault injection: a policy that emits NaN, jumps 1 m, or aims under the table, and an e-stop
//! mid-run. In every case the run ends with a clear reason and no unsafe command reaches the
//! simulated robot (checked on the commands recorded in the run's MCAP log).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use embody_agent::log::read_log;
use embody_agent::ros_msgs::{JointTrajectoryMsg, RosMessage};
use embody_agent::{
    ActionChunk, ArmModel, EmbeddedPlanner, FailureKind, Observation, Policy, PolicyError,
    SceneGraph, Skill,
};
use embody_policies::{ExpertConfig, ScriptedExpert};
use embody_sim::runner::{run_sim_episode, LogTarget, RunOptions};
use embody_sim::Scenario;

#[derive(Clone, Copy)]
enum Fault {
    NaN,
    Jump,
    UnderTable,
    EStop,
}

/// The scripted expert, corrupted from its 6th chunk on.
struct Faulty {
    inner: ScriptedExpert,
    fault: Fault,
    calls: usize,
    estop: Arc<AtomicBool>,
}

impl Policy for Faulty {
    fn reset(&mut self) {
        self.inner.reset();
    }
    fn act(
        &mut self,
        obs: &Observation,
        scene: &SceneGraph,
        skill: &Skill,
    ) -> Result<ActionChunk, PolicyError> {
        let mut chunk = self.inner.act(obs, scene, skill)?;
        self.calls += 1;
        if self.calls >= 6 {
            for (i, a) in chunk.actions.iter_mut().enumerate() {
                let p = &mut a.ee_target_in_base.translation.vector;
                match self.fault {
                    Fault::NaN => p.x = f64::NAN,
                    Fault::Jump => p.x += 1.0,
                    // Down at 1 m/s, through the table.
                    Fault::UnderTable => p.z -= 0.1 * (i + 1) as f64,
                    Fault::EStop => self.estop.store(true, Ordering::SeqCst),
                }
            }
        }
        Ok(chunk)
    }
}

#[test]
fn faults_stop_the_run_and_nothing_unsafe_reaches_the_robot() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scenario =
        Arc::new(Scenario::from_file(&root.join("scenarios/table_clearing.toml")).unwrap());
    let arm =
        ArmModel::from_urdf_file(&scenario.urdf_path(), "panda_link0", "panda_hand_tcp").unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (fault, expect) in [
        (Fault::NaN, "NaN"),
        (Fault::Jump, "jumps"),
        (Fault::UnderTable, "below the floor"),
        (Fault::EStop, "e-stop"),
    ] {
        let estop = Arc::new(AtomicBool::new(false));
        let mut policy = Faulty {
            inner: ScriptedExpert::new(ExpertConfig::default()),
            fault,
            calls: 0,
            estop: estop.clone(),
        };
        let log = dir.path().join(format!("{expect}.mcap"));
        let opts = RunOptions {
            log: Some(LogTarget::File(log.clone())),
            estop: Some(estop),
            ..RunOptions::default()
        };
        let r = run_sim_episode(
            &scenario,
            3,
            &mut policy,
            &EmbeddedPlanner::default(),
            &opts,
        )
        .unwrap();
        let stopped = r.report.stopped.clone().expect("a stop");
        assert_eq!(stopped.kind, FailureKind::SafetyStop, "{expect}: {stopped}");
        assert!(stopped.detail.contains(expect), "{expect}: {stopped}");
        assert!(!r.success);

        // Every command the robot received: finite, inside the joint position and velocity
        // limits, with the TCP above the table.
        let log = read_log(&log).unwrap();
        let mut n = 0;
        for m in log.on("/panda_arm_controller/joint_trajectory") {
            let t = JointTrajectoryMsg::from_cdr(&m.data).unwrap();
            let p = &t.points[0];
            assert!(p
                .positions
                .iter()
                .chain(&p.velocities)
                .all(|v| v.is_finite()));
            assert!(
                arm.within_limits(&p.positions, 1e-9),
                "{expect}: {:?}",
                p.positions
            );
            for (v, j) in p.velocities.iter().zip(&arm.joints) {
                assert!(v.abs() <= j.max_velocity, "{expect}: {} at {v}", j.name);
            }
            assert!(
                arm.forward(&p.positions).translation.z > 0.0,
                "{expect}: TCP under the table"
            );
            n += 1;
        }
        assert!(n > 100, "the run moved before the fault");
        let events: Vec<serde_json::Value> = log
            .on("/embody/events")
            .map(|m| serde_json::from_slice(&m.data).unwrap())
            .collect();
        assert!(
            events.iter().any(|e| e["kind"] == "safety_stop"),
            "{expect}: no safety_stop event"
        );
    }
}
