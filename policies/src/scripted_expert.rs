//! A scripted expert for `Pick` and `Place` that uses privileged object poses: approach, hover,
//! descend, grasp, lift; carry, descend, release, retreat. It produces demonstrations and is the
//! ceiling learned policies are measured against. Its choices (the grasp yaw, the drop spot)
//! come from the scene graph through `embody_agent::grasp`, as the learned policy's features
//! do, so a demonstration never depends on something the policy cannot see.

use embody_agent::grasp::{grasp_yaw_avoiding, place_spot, DEFAULT_MIN_FINGER_CLEARANCE_M};
use embody_agent::rotation::top_down;
use embody_agent::types::{
    Action, ActionChunk, ChunkSource, Constraint, Observation, SceneGraph, Skill,
};
use embody_agent::{Policy, PolicyError};
use nalgebra::{Isometry3, Translation3};

use crate::trajectory::Trajectory;

#[derive(Clone, Debug)]
pub struct ExpertConfig {
    /// Period of the emitted actions (s) and chunk sizes (Tp actions, Ta executed).
    pub action_dt: f64,
    pub horizon: usize,
    pub execute: usize,
    /// Cruise speed of free-space moves (m/s) and of the slow vertical moves near objects.
    pub travel_speed: f64,
    pub approach_speed: f64,
    /// Mean wrist turn rate (rad/s); the quintic profile peaks at 1.875x, under Franka's 2.5.
    pub turn_speed: f64,
    /// Pause above an object before descending: a long approach lags its targets.
    pub hover_s: f64,
    pub close_s: f64,
    pub open_s: f64,
    /// Height above the object's top at which the approach ends (m).
    pub approach_clearance: f64,
    pub lift_height: f64,
    pub open_width: f64,
    /// Objects nearer or farther than this from the base axis are not attempted (m).
    pub min_reach_m: f64,
    pub max_reach_m: f64,
    /// How close the hand must be to the pose above an object (or above the drop spot) before
    /// it descends: horizontally and vertically (m) and in rotation (rad). A long move, near the
    /// base most of all, lags its targets, and a descent started off to the side knocks the
    /// object away. The position motors leave ~5 mm horizontal and ~1 cm vertical sag at rest,
    /// so the tolerances sit above that.
    pub gate_tolerance_xy_m: f64,
    pub gate_tolerance_z_m: f64,
    pub gate_tolerance_rad: f64,
}

impl Default for ExpertConfig {
    fn default() -> Self {
        Self {
            action_dt: 0.1,
            horizon: 16,
            execute: 8,
            travel_speed: 0.4,
            approach_speed: 0.15,
            turn_speed: 1.2,
            hover_s: 0.3,
            close_s: 0.6,
            open_s: 0.4,
            approach_clearance: 0.08,
            lift_height: 0.2,
            open_width: 0.08,
            min_reach_m: 0.15,
            max_reach_m: 0.8,
            gate_tolerance_xy_m: 0.012,
            gate_tolerance_z_m: 0.03,
            gate_tolerance_rad: 0.06,
        }
    }
}

/// A pose the hand must have reached before the trajectory goes on past time `t`.
#[derive(Clone, Copy, Debug)]
struct Gate {
    t: f64,
    pose: Isometry3<f64>,
}

/// A skill's trajectory, its gates, and how long it has waited at them.
#[derive(Clone, Debug)]
struct Planned {
    trajectory: Trajectory,
    gates: std::collections::VecDeque<Gate>,
    /// Robot time minus trajectory time: the waiting so far (s).
    delay: f64,
}

pub struct ScriptedExpert {
    cfg: ExpertConfig,
    planned: Option<Planned>,
    /// The plan's keep-away constraints: grasps turn the palm away from them.
    avoid: Vec<Constraint>,
}

impl ScriptedExpert {
    pub fn new(cfg: ExpertConfig) -> Self {
        Self {
            cfg,
            planned: None,
            avoid: Vec::new(),
        }
    }

    fn move_time(&self, from: &Isometry3<f64>, to: &Isometry3<f64>, speed: f64) -> f64 {
        let d = (to.translation.vector - from.translation.vector).norm();
        let a = from.rotation.angle_to(&to.rotation);
        (d / speed).max(a / self.cfg.turn_speed).max(0.3)
    }

    fn plan_pick(
        &self,
        obs: &Observation,
        scene: &SceneGraph,
        object: &str,
    ) -> Result<Planned, PolicyError> {
        let truth = privileged_pose(obs, object)?;
        let info = scene
            .object(object)
            .ok_or_else(|| PolicyError::MissingInput(format!("'{object}' in the scene graph")))?;
        let e = info.extents;
        let p = truth.translation.vector;
        let reach = p.xy().norm();
        let on_table =
            p.z > scene.table_height_m - 0.02 && p.z < scene.table_height_m + e.max() + 0.02;
        if !(self.cfg.min_reach_m..=self.cfg.max_reach_m).contains(&reach) || !on_table {
            return Err(PolicyError::Unsupported {
                skill: format!("pick {object}"),
                reason: format!(
                    "'{object}' at ({:.2}, {:.2}, {:.2}) m is out of reach or off the table",
                    p.x, p.y, p.z
                ),
            });
        }
        let here = obs.ee_in_base;
        let yaw = grasp_yaw_avoiding(scene, object, DEFAULT_MIN_FINGER_CLEARANCE_M, &self.avoid)
            .ok_or_else(|| PolicyError::MissingInput(format!("'{object}' in the scene graph")))?;
        let rot = top_down(yaw);
        let table = scene.table_height_m;
        let bottom = p.z - e.z / 2.0;
        let top = bottom + e.z;
        let grasp_z = (bottom + e.z / 2.0).max(top - 0.035).max(table + 0.012);
        let pre = Isometry3::from_parts(
            Translation3::new(p.x, p.y, top + self.cfg.approach_clearance),
            rot,
        );
        let grasp = Isometry3::from_parts(Translation3::new(p.x, p.y, grasp_z), rot);
        let lift = Isometry3::from_parts(
            Translation3::new(p.x, p.y, table + self.cfg.lift_height + e.z),
            rot,
        );
        let open = self.cfg.open_width;
        let mut t = Trajectory::start(obs.stamp, here, open);
        t.then(
            self.move_time(&here, &pre, self.cfg.travel_speed),
            pre,
            open,
        )
        .hold(self.cfg.hover_s, open);
        // Descend only from right above the object.
        let gate = Gate {
            t: t.end(),
            pose: pre,
        };
        t.then(
            self.move_time(&pre, &grasp, self.cfg.approach_speed),
            grasp,
            open,
        )
        .hold(0.2, open)
        .hold(self.cfg.close_s, 0.0)
        .then(
            self.move_time(&grasp, &lift, self.cfg.approach_speed * 2.0),
            lift,
            0.0,
        );
        Ok(Planned::new(t, vec![gate]))
    }

    fn plan_place(
        &self,
        obs: &Observation,
        scene: &SceneGraph,
        object: &str,
        into: &str,
    ) -> Result<Planned, PolicyError> {
        let truth = privileged_pose(obs, object)?;
        let info = scene
            .object(object)
            .ok_or_else(|| PolicyError::MissingInput(format!("'{object}' in the scene graph")))?;
        let bin = scene.container(into).ok_or_else(|| {
            PolicyError::MissingInput(format!("container '{into}' in the scene graph"))
        })?;
        let here = obs.ee_in_base;
        // How far the TCP is above the held object's bottom.
        let tcp_above_bottom = here.translation.z - (truth.translation.z - info.extents.z / 2.0);
        let spot = place_spot(scene, object, into).ok_or_else(|| {
            PolicyError::MissingInput(format!("container '{into}' in the scene graph"))
        })?;
        let floor = bin.pose_in_base.translation.z;
        let rot = here.rotation;
        let above_z = floor + bin.inner_extents.z + 0.04 + tcp_above_bottom;
        let release_z = floor + 0.02 + tcp_above_bottom;
        let above = Isometry3::from_parts(
            Translation3::new(spot.x, spot.y, above_z.max(here.translation.z)),
            rot,
        );
        let release = Isometry3::from_parts(
            Translation3::new(spot.x, spot.y, release_z.min(above_z)),
            rot,
        );
        let retreat = Isometry3::from_parts(
            Translation3::new(spot.x, spot.y, above.translation.z + 0.05),
            rot,
        );
        let open = self.cfg.open_width;
        let mut t = Trajectory::start(obs.stamp, here, 0.0);
        t.then(
            self.move_time(&here, &above, self.cfg.travel_speed),
            above,
            0.0,
        );
        // Lower into the bin only from right above the drop spot.
        let gate = Gate {
            t: t.end(),
            pose: above,
        };
        t.then(
            self.move_time(&above, &release, self.cfg.approach_speed * 2.0),
            release,
            0.0,
        )
        .hold(self.cfg.open_s, open)
        .then(
            self.move_time(&release, &retreat, self.cfg.approach_speed * 2.0),
            retreat,
            open,
        );
        Ok(Planned::new(t, vec![gate]))
    }
}

impl Planned {
    fn new(trajectory: Trajectory, gates: Vec<Gate>) -> Self {
        Self {
            trajectory,
            gates: gates.into(),
            delay: 0.0,
        }
    }

    /// The trajectory time to continue from at robot time `now`, having observed the hand at
    /// `ee`: at a gate, the trajectory waits (holding the gate's pose) until the hand is within
    /// tolerance of it, then goes on from there.
    fn advance(&mut self, now: f64, ee: &Isometry3<f64>, cfg: &ExpertConfig) -> f64 {
        if let Some(g) = self.gates.front().copied() {
            if now - self.delay >= g.t - 1e-9 {
                self.delay = now - g.t;
                let d = ee.translation.vector - g.pose.translation.vector;
                let reached = d.xy().norm() <= cfg.gate_tolerance_xy_m
                    && d.z.abs() <= cfg.gate_tolerance_z_m
                    && ee.rotation.angle_to(&g.pose.rotation) <= cfg.gate_tolerance_rad;
                if reached {
                    self.gates.pop_front();
                }
            }
        }
        now - self.delay
    }
}

fn privileged_pose(obs: &Observation, object: &str) -> Result<Isometry3<f64>, PolicyError> {
    obs.privileged
        .as_ref()
        .ok_or_else(|| {
            PolicyError::MissingInput(
                "privileged object poses (the scripted expert runs in simulation only)".into(),
            )
        })?
        .iter()
        .find(|o| o.id == object)
        .map(|o| o.pose_in_base)
        .ok_or_else(|| PolicyError::MissingInput(format!("the pose of '{object}'")))
}

impl Policy for ScriptedExpert {
    fn reset(&mut self) {
        self.planned = None;
    }

    /// Its grasps keep the palm away from them (its paths come down onto each object from
    /// above, so the grasp is where the hand comes near a neighbour).
    fn constrain(&mut self, constraints: &[Constraint]) -> bool {
        self.avoid = constraints.to_vec();
        true
    }

    fn act(
        &mut self,
        obs: &Observation,
        scene: &SceneGraph,
        skill: &Skill,
    ) -> Result<ActionChunk, PolicyError> {
        if self.planned.is_none() {
            self.planned = Some(match skill {
                Skill::Pick { object } => self.plan_pick(obs, scene, object)?,
                Skill::Place { object, into } => self.plan_place(obs, scene, object, into)?,
            });
        }
        let planned = self.planned.as_mut().expect("set above");
        let t0 = planned.advance(obs.stamp, &obs.ee_in_base, &self.cfg);
        // Actions stop at the next gate: the hand holds there until it has arrived.
        let gate = planned.gates.front().map(|g| g.t);
        let traj = &planned.trajectory;
        let dt = self.cfg.action_dt;
        let remaining = traj.end() - t0;
        let completes = gate.is_none() && remaining <= self.cfg.execute as f64 * dt + 1e-9;
        let n = if completes {
            ((remaining / dt).ceil() as usize).max(1)
        } else {
            self.cfg.horizon
        };
        let actions = (0..n)
            .map(|i| {
                let t = t0 + (i + 1) as f64 * dt;
                let (pose, g) = traj.sample(gate.map_or(t, |g| t.min(g)));
                Action {
                    ee_target_in_base: pose,
                    gripper_width_m: g,
                }
            })
            .collect();
        Ok(ActionChunk {
            start: obs.stamp,
            dt,
            actions,
            execute: self.cfg.execute,
            completes_skill: completes,
            source: ChunkSource::Policy,
        })
    }
}
