//! The safety filter between the policy and the body: the same code in simulation and on a
//! robot. It checks every action chunk (finite numbers, Cartesian speed, a workspace box and a
//! floor over the table) and every joint command (finite, joint position, velocity, acceleration
//! and jerk limits, gripper force, e-stop). A violation stops the run with its reason; the body
//! is sent a hold command instead.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use nalgebra::Isometry3;
use serde::Serialize;

use crate::kinematics::ArmModel;
use crate::types::{ActionChunk, JointCommand};

#[derive(Clone, Debug)]
pub struct SafetyConfig {
    /// TCP workspace (base frame): min and max corners.
    pub workspace_min: [f64; 3],
    pub workspace_max: [f64; 3],
    /// Lowest TCP height: the table surface plus the TCP-to-fingertip distance, minus a margin.
    pub floor_z: f64,
    /// Cartesian limits of the TCP targets (Franka: 1.7 m/s, 2.5 rad/s).
    pub max_speed_m_s: f64,
    pub max_turn_rad_s: f64,
    pub max_gripper_width_m: f64,
    pub max_grip_force_n: f64,
    /// Relative slack on the joint limits (numerical noise of the controller).
    pub tolerance: f64,
    /// Extra allowance for the first target of a chunk, which a policy plans from the measured
    /// pose while the controller tracks its last target: the tracking error between the two.
    pub tracking_slack_m: f64,
    pub tracking_slack_rad: f64,
    /// A chunk that moves faster than the Cartesian limits is slowed to them (each target moved
    /// back towards its predecessor, logged as an intervention): a learned policy's chunks are
    /// not exactly feasible. A position jump beyond this multiple of the limit is a fault and
    /// the arm stops.
    pub max_overspeed: f64,
    /// A target outside the workspace box by at most this much (m) is pulled back onto the box
    /// (an intervention, like slowing): a learned policy reaching for an object near the table's
    /// edge overshoots it by a few centimetres, and stopping the whole episode for that cost
    /// every object still on the table. A target farther out is a fault and the arm stops.
    pub max_workspace_excursion_m: f64,
}

impl SafetyConfig {
    /// `arm` over a table whose top is at `table_z`: the gripper's opening and force from its
    /// URDF, Cartesian limits of 1.7 m/s and 2.5 rad/s (Franka's published ones; no lower one
    /// is published for the UR5e, whose own safety controller enforces its configured limits).
    pub fn over_table(
        arm: &ArmModel,
        workspace_min: [f64; 3],
        workspace_max: [f64; 3],
        table_z: f64,
    ) -> Self {
        let (max_gripper_width_m, max_grip_force_n) = arm
            .gripper
            .as_ref()
            .map_or((0.0, 0.0), |g| (g.max_width_m, g.max_effort_n));
        Self {
            workspace_min,
            workspace_max,
            floor_z: table_z + 0.005,
            max_speed_m_s: 1.7,
            max_turn_rad_s: 2.5,
            max_gripper_width_m,
            max_grip_force_n,
            tolerance: 1e-6,
            tracking_slack_m: 0.03,
            tracking_slack_rad: 0.1,
            max_overspeed: 3.0,
            max_workspace_excursion_m: 0.1,
        }
    }
}

/// Why the filter stopped the run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SafetyStop {
    pub reason: String,
}

/// A change the filter made without stopping (logged as an event).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Intervention {
    pub reason: String,
}

pub struct SafetyFilter {
    cfg: SafetyConfig,
    arm: ArmModel,
    dt: f64,
    last: Option<(Vec<f64>, Vec<f64>, Vec<f64>)>,
    estop: Arc<AtomicBool>,
}

impl SafetyFilter {
    /// `control_dt` is the period of the joint commands it will see.
    pub fn new(cfg: SafetyConfig, arm: ArmModel, control_dt: f64) -> Self {
        Self {
            cfg,
            arm,
            dt: control_dt,
            last: None,
            estop: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Uses `flag` as the e-stop input (shared with whatever presses it).
    pub fn with_estop(mut self, flag: Arc<AtomicBool>) -> Self {
        self.estop = flag;
        self
    }

    /// Setting this flag (from any thread, a ROS topic, a button) stops the run at the next
    /// command.
    pub fn estop(&self) -> Arc<AtomicBool> {
        self.estop.clone()
    }

    /// Checks a chunk against the workspace, the floor and the Cartesian speed limits, starting
    /// from the target the controller tracks now. Gripper widths outside the gripper's range are
    /// clamped (reported as interventions).
    pub fn check_chunk(
        &self,
        chunk: &mut ActionChunk,
        from: &Isometry3<f64>,
    ) -> Result<Vec<Intervention>, SafetyStop> {
        let stop = |reason: String| Err(SafetyStop { reason });
        if !(chunk.dt.is_finite() && chunk.dt > 0.0) {
            return stop(format!("policy chunk has an invalid period {}", chunk.dt));
        }
        let mut interventions = Vec::new();
        let mut prev = *from;
        for (k, a) in chunk.actions.iter_mut().enumerate() {
            let p = a.ee_target_in_base.translation.vector;
            let q = a.ee_target_in_base.rotation.coords;
            if p.iter().chain(q.iter()).any(|v| !v.is_finite()) || !a.gripper_width_m.is_finite() {
                return stop(format!(
                    "policy output contains NaN or infinity (action {k})"
                ));
            }
            let (slack_m, slack_rad) = if k == 0 {
                (self.cfg.tracking_slack_m, self.cfg.tracking_slack_rad)
            } else {
                (0.0, 0.0)
            };
            let step = (p - prev.translation.vector).norm();
            let limit = self.cfg.max_speed_m_s * chunk.dt + slack_m;
            if step > self.cfg.max_overspeed * limit + 1e-9 {
                return stop(format!(
                    "target {k} jumps {step:.3} m in {:.3} s (limit {limit:.3} m at {} m/s)",
                    chunk.dt, self.cfg.max_speed_m_s
                ));
            }
            // Any finite turn can be slowed safely (a learned policy switching between the
            // symmetric grasps of a box turns by a right angle); only a jump in position is a
            // fault.
            let turn = prev.rotation.angle_to(&a.ee_target_in_base.rotation);
            let turn_limit = self.cfg.max_turn_rad_s * chunk.dt + slack_rad;
            if step > limit + 1e-9 {
                let p = prev.translation.vector + (p - prev.translation.vector) * (limit / step);
                a.ee_target_in_base.translation.vector = p;
                interventions.push(Intervention {
                    reason: format!(
                        "target {k} slowed from {step:.3} m to {limit:.3} m in {:.3} s",
                        chunk.dt
                    ),
                });
            }
            if turn > turn_limit + 1e-9 {
                let r = prev
                    .rotation
                    .slerp(&a.ee_target_in_base.rotation, turn_limit / turn);
                a.ee_target_in_base.rotation = r;
                interventions.push(Intervention {
                    reason: format!(
                        "target {k} turn slowed from {turn:.3} rad to {turn_limit:.3} rad in {:.3} s",
                        chunk.dt
                    ),
                });
            }
            let p = a.ee_target_in_base.translation.vector;
            if p.z < self.cfg.floor_z {
                return stop(format!(
                    "target {k} is {:.3} m high, below the floor at {:.3} m over the table",
                    p.z, self.cfg.floor_z
                ));
            }
            let mut inside = p;
            for i in 0..3 {
                inside[i] = p[i].clamp(self.cfg.workspace_min[i], self.cfg.workspace_max[i]);
            }
            let excursion = (p - inside).norm();
            if excursion > self.cfg.max_workspace_excursion_m {
                return stop(format!(
                    "target {k} at ({:.3}, {:.3}, {:.3}) m leaves the workspace by {excursion:.3} m \
                     (at most {:.3} m is pulled back)",
                    p.x, p.y, p.z, self.cfg.max_workspace_excursion_m
                ));
            }
            if excursion > 0.0 {
                // The box is convex and the previous target lies in it, so pulling the target
                // onto it never lengthens the step the speed limit just allowed.
                a.ee_target_in_base.translation.vector = inside;
                interventions.push(Intervention {
                    reason: format!(
                        "target {k} at ({:.3}, {:.3}, {:.3}) m pulled {excursion:.3} m back into the workspace",
                        p.x, p.y, p.z
                    ),
                });
            }
            let w = a.gripper_width_m.clamp(0.0, self.cfg.max_gripper_width_m);
            if w != a.gripper_width_m {
                interventions.push(Intervention {
                    reason: format!(
                        "gripper width {:.3} m clamped to {w:.3} m",
                        a.gripper_width_m
                    ),
                });
                a.gripper_width_m = w;
            }
            prev = a.ee_target_in_base;
        }
        Ok(interventions)
    }

    /// Checks one joint command against the e-stop and the joint limits.
    pub fn check_command(
        &mut self,
        cmd: &mut JointCommand,
    ) -> Result<Vec<Intervention>, SafetyStop> {
        let stop = |reason: String| Err(SafetyStop { reason });
        if self.estop.load(Ordering::SeqCst) {
            return stop("e-stop pressed".into());
        }
        let n = self.arm.dof();
        if cmd.positions.len() != n || cmd.velocities.len() != n {
            return stop(format!(
                "command has {} joints, the arm {n}",
                cmd.positions.len()
            ));
        }
        if let Some(i) = cmd
            .positions
            .iter()
            .chain(&cmd.velocities)
            .position(|v| !v.is_finite())
        {
            return stop(format!(
                "command contains NaN or infinity (joint {})",
                i % n + 1
            ));
        }
        let tol = 1.0 + self.cfg.tolerance;
        let mut acc = vec![0.0; n];
        for (i, j) in self.arm.joints.iter().enumerate() {
            let q = cmd.positions[i];
            let v = cmd.velocities[i];
            if q < j.lower_rad - self.cfg.tolerance || q > j.upper_rad + self.cfg.tolerance {
                return stop(format!(
                    "{} at {q:.4} rad leaves [{}, {}]",
                    j.name, j.lower_rad, j.upper_rad
                ));
            }
            if v.abs() > j.max_velocity * tol {
                return stop(format!(
                    "{} velocity {v:.3} rad/s over {}",
                    j.name, j.max_velocity
                ));
            }
            if let Some((_, v_prev, a_prev)) = &self.last {
                acc[i] = (v - v_prev[i]) / self.dt;
                if acc[i].abs() > j.max_acceleration * tol {
                    return stop(format!(
                        "{} acceleration {:.2} rad/s^2 over {}",
                        j.name, acc[i], j.max_acceleration
                    ));
                }
                let jerk = (acc[i] - a_prev[i]) / self.dt;
                if jerk.abs() > j.max_jerk * tol {
                    return stop(format!(
                        "{} jerk {jerk:.0} rad/s^3 over {}",
                        j.name, j.max_jerk
                    ));
                }
            }
        }
        let mut interventions = Vec::new();
        if !cmd.gripper.width_m.is_finite() || !cmd.gripper.max_force_n.is_finite() {
            return stop("gripper command contains NaN or infinity".into());
        }
        if cmd.gripper.max_force_n > self.cfg.max_grip_force_n {
            interventions.push(Intervention {
                reason: format!(
                    "grip force {:.1} N clamped to {:.1} N",
                    cmd.gripper.max_force_n, self.cfg.max_grip_force_n
                ),
            });
            cmd.gripper.max_force_n = self.cfg.max_grip_force_n;
        }
        self.last = Some((cmd.positions.clone(), cmd.velocities.clone(), acc));
        Ok(interventions)
    }

    /// What the body is sent after a stop: stay at the last safe command, zero velocity.
    pub fn hold(&self, fallback: &JointCommand) -> JointCommand {
        let mut cmd = fallback.clone();
        if let Some((q, _, _)) = &self.last {
            cmd.positions.clone_from(q);
        }
        cmd.velocities.iter_mut().for_each(|v| *v = 0.0);
        cmd
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::GripperCommand;

    fn filter() -> SafetyFilter {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../assets/robots/panda/panda.urdf");
        let arm = ArmModel::from_urdf_file(&path, "panda_link0", "panda_hand_tcp").unwrap();
        SafetyFilter::new(
            SafetyConfig::over_table(&arm, [-1.0; 3], [1.0; 3], 0.0),
            arm,
            1.0 / 120.0,
        )
    }

    fn cmd(q: [f64; 7], v: [f64; 7], force: f64) -> JointCommand {
        JointCommand {
            stamp: 0.0,
            positions: q.to_vec(),
            velocities: v.to_vec(),
            gripper: GripperCommand {
                width_m: 0.04,
                max_force_n: force,
            },
        }
    }

    const HOME: [f64; 7] = [0.0, -0.78, 0.0, -2.35, 0.0, 1.57, 0.78];

    fn chunk_to(points: &[(f64, f64)]) -> ActionChunk {
        ActionChunk {
            start: 0.0,
            dt: 0.1,
            actions: points
                .iter()
                .map(|(x, yaw)| crate::types::Action {
                    ee_target_in_base: Isometry3::from_parts(
                        nalgebra::Translation3::new(*x, 0.0, 0.3),
                        nalgebra::UnitQuaternion::from_euler_angles(
                            std::f64::consts::PI,
                            0.0,
                            *yaw,
                        ),
                    ),
                    gripper_width_m: 0.04,
                })
                .collect(),
            execute: points.len(),
            completes_skill: false,
            source: Default::default(),
        }
    }

    #[test]
    fn fast_chunks_are_slowed_to_the_limits_and_jumps_stop() {
        let f = filter();
        let from = chunk_to(&[(0.4, 0.0)]).actions[0].ee_target_in_base;
        // 0.3 m per 0.1 s (3 m/s) and a right-angle turn: slowed, each step within the limits.
        let mut c = chunk_to(&[(0.7, 1.57), (1.0, 1.57)]);
        let interventions = f.check_chunk(&mut c, &from).unwrap();
        assert!(
            interventions.iter().any(|i| i.reason.contains("slowed")),
            "{interventions:?}"
        );
        let mut prev = from;
        for (k, a) in c.actions.iter().enumerate() {
            let slack = if k == 0 { 0.03 } else { 0.0 };
            let step = (a.ee_target_in_base.translation.vector - prev.translation.vector).norm();
            assert!(step <= 1.7 * 0.1 + slack + 1e-9, "step {k}: {step}");
            let turn = prev.rotation.angle_to(&a.ee_target_in_base.rotation);
            assert!(turn <= 2.5 * 0.1 + 0.1 + 1e-9, "turn {k}: {turn}");
            prev = a.ee_target_in_base;
        }
        // 0.9 m in 0.1 s is beyond any slowing: a fault.
        let mut c = chunk_to(&[(1.3, 0.0)]);
        assert!(f
            .check_chunk(&mut c, &from)
            .unwrap_err()
            .reason
            .contains("jumps"));
    }

    #[test]
    fn targets_just_outside_the_workspace_are_pulled_back_and_far_ones_stop() {
        // The test filter's workspace is the cube [-1, 1] m.
        let f = filter();
        let from = chunk_to(&[(0.9, 0.0)]).actions[0].ee_target_in_base;
        let mut c = chunk_to(&[(0.95, 0.0), (1.04, 0.0), (1.0, 0.0)]);
        let interventions = f.check_chunk(&mut c, &from).unwrap();
        assert_eq!(interventions.len(), 1, "{interventions:?}");
        assert!(
            interventions[0].reason.contains("pulled 0.040 m back"),
            "{interventions:?}"
        );
        let x: Vec<f64> = c
            .actions
            .iter()
            .map(|a| a.ee_target_in_base.translation.x)
            .collect();
        assert_eq!(x, vec![0.95, 1.0, 1.0]);
        // 0.15 m out is no overshoot but a fault.
        let mut c = chunk_to(&[(1.0, 0.0), (1.15, 0.0)]);
        let stop = f.check_chunk(&mut c, &from).unwrap_err();
        assert!(
            stop.reason.contains("leaves the workspace by 0.150 m"),
            "{stop:?}"
        );
    }

    #[test]
    fn joint_limits_are_enforced() {
        let mut f = filter();
        assert!(f
            .check_command(&mut cmd(HOME, [0.0; 7], 20.0))
            .unwrap()
            .is_empty());
        let mut fast = HOME;
        fast[0] = 0.01;
        let e = f
            .check_command(&mut cmd(fast, [3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], 20.0))
            .unwrap_err();
        assert!(e.reason.contains("panda_joint1 velocity"), "{}", e.reason);
        let mut out = HOME;
        out[3] = 0.5;
        assert!(f
            .check_command(&mut cmd(out, [0.0; 7], 20.0))
            .unwrap_err()
            .reason
            .contains("panda_joint4"));
        let mut strong = cmd(HOME, [0.0; 7], 500.0);
        let iv = f.check_command(&mut strong).unwrap();
        assert_eq!(strong.gripper.max_force_n, 70.0);
        assert_eq!(iv.len(), 1);
        f.estop().store(true, Ordering::SeqCst);
        assert_eq!(
            f.check_command(&mut cmd(HOME, [0.0; 7], 20.0))
                .unwrap_err()
                .reason,
            "e-stop pressed"
        );
        // The hold command stays at the last safe position, at rest.
        let h = f.hold(&cmd([0.3; 7], [1.0; 7], 20.0));
        assert_eq!(h.positions, HOME.to_vec());
        assert!(h.velocities.iter().all(|v| *v == 0.0));
    }

    #[test]
    fn acceleration_limit_is_enforced() {
        let mut f = filter();
        f.check_command(&mut cmd(HOME, [0.0; 7], 20.0)).unwrap();
        // 0.2 rad/s more in one 1/120 s tick is 24 rad/s^2, over joint 2's 7.5.
        let e = f
            .check_command(&mut cmd(HOME, [0.0, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0], 20.0))
            .unwrap_err();
        assert!(
            e.reason.contains("panda_joint2 acceleration"),
            "{}",
            e.reason
        );
    }
}
