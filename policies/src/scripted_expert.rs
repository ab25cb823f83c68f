//! A scripted expert for `Pick` and `Place` that uses privileged object poses: approach, hover,
//! descend, grasp, lift; carry, descend, release, retreat. It produces demonstrations and is the
//! ceiling learned policies are measured against.

use embody_agent::rotation::{top_down, wrap_angle, yaw_of};
use embody_agent::types::{Action, ActionChunk, Observation, SceneGraph, ShapeKind, Skill};
use embody_agent::{Policy, PolicyError};
use nalgebra::{Isometry3, Point3, Translation3, Vector3};

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
        }
    }
}

pub struct ScriptedExpert {
    cfg: ExpertConfig,
    trajectory: Option<Trajectory>,
    /// Gripper yaw at the start of the episode: grasps turn the wrist at most a quarter turn
    /// from it, so joint 7 never winds up against its limit over many picks.
    neutral_yaw: Option<f64>,
}

impl ScriptedExpert {
    pub fn new(cfg: ExpertConfig) -> Self {
        Self {
            cfg,
            trajectory: None,
            neutral_yaw: None,
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
    ) -> Result<Trajectory, PolicyError> {
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
        let neutral = self.neutral_yaw.unwrap_or_else(|| yaw_of(&here.rotation));
        // Candidate wrist yaws: boxes close across their narrower side (either side of a
        // near-square box), round objects at any yaw. The gripper is symmetric, so each is
        // taken nearest the neutral yaw; the one whose fingers land farthest from the
        // neighbours wins.
        let candidates: Vec<f64> = match info.shape {
            ShapeKind::Cylinder | ShapeKind::Cup => (-5..=6)
                .map(|k| neutral + k as f64 * std::f64::consts::PI / 12.0)
                .collect(),
            ShapeKind::Box => {
                let object_yaw = yaw_of(&truth.rotation);
                let across_x = object_yaw + std::f64::consts::FRAC_PI_2;
                let mut c = vec![if e.x <= e.y { across_x } else { object_yaw }];
                if (e.x - e.y).abs() < 0.01 {
                    c.push(if e.x <= e.y { object_yaw } else { across_x });
                }
                c.into_iter()
                    .map(|g| neutral + wrap_angle_half(g - neutral))
                    .collect()
            }
        };
        // Where the finger pads land: just outside the side they close across.
        let across = if info.shape == ShapeKind::Box {
            e.x.min(e.y)
        } else {
            e.x
        };
        let half_span = 0.5 * across + 0.015;
        let finger_clearance = |yaw: f64| -> f64 {
            // Hand y (the closing axis) of top_down(yaw) in the base frame.
            let axis = nalgebra::Vector2::new(yaw.sin(), -yaw.cos());
            let fingers = [p.xy() + axis * half_span, p.xy() - axis * half_span];
            scene
                .objects
                .iter()
                .filter(|o| o.id != object)
                .flat_map(|o| {
                    let c = o.pose_in_base.translation.vector.xy();
                    let r = 0.5 * o.extents.x.hypot(o.extents.y);
                    fingers.map(|f| (f - c).norm() - r)
                })
                .fold(f64::INFINITY, f64::min)
        };
        let yaw = candidates
            .iter()
            .copied()
            .map(|y| (y, finger_clearance(y).min(0.05), -(y - neutral).abs()))
            .fold(None, |best: Option<(f64, f64, f64)>, c| match best {
                Some(b) if (b.1, b.2) >= (c.1, c.2) => Some(b),
                _ => Some(c),
            })
            .map(|(y, _, _)| y)
            .unwrap_or(neutral);
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
        .hold(self.cfg.hover_s, open)
        .then(
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
        Ok(t)
    }

    fn plan_place(
        &self,
        obs: &Observation,
        scene: &SceneGraph,
        object: &str,
        into: &str,
    ) -> Result<Trajectory, PolicyError> {
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
        let spot = self.free_spot(obs, scene, object, into);
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
        )
        .then(
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
        Ok(t)
    }

    /// The drop spot in the container farthest from the objects already in it (3 x 2 grid).
    fn free_spot(
        &self,
        obs: &Observation,
        scene: &SceneGraph,
        held: &str,
        into: &str,
    ) -> Point3<f64> {
        let bin = scene.container(into).expect("checked by the caller");
        let inside: Vec<Vector3<f64>> = obs
            .privileged
            .iter()
            .flatten()
            .filter(|o| o.id != held)
            .map(|o| o.pose_in_base.translation.vector)
            .filter(|p| bin.contains(&Point3::from(*p), 0.0, 0.1))
            .collect();
        let (hx, hy) = (bin.inner_extents.x / 2.0, bin.inner_extents.y / 2.0);
        let mut best = (f64::NEG_INFINITY, bin.pose_in_base * Point3::origin());
        for fx in [-0.6, 0.0, 0.6] {
            for fy in [-0.5, 0.5] {
                let local = Point3::new(fx * hx, fy * hy, 0.0);
                let p = bin.pose_in_base * local;
                let clearance = inside
                    .iter()
                    .map(|o| (o.xy() - p.coords.xy()).norm())
                    .fold(f64::INFINITY, f64::min);
                // Prefer the centre line slightly: ties resolve deterministically by order.
                if clearance > best.0 + 1e-9 {
                    best = (clearance, p);
                }
            }
        }
        best.1
    }
}

/// Wraps an angle into (-pi/2, pi/2]: the two finger orders of a parallel gripper are the same.
fn wrap_angle_half(a: f64) -> f64 {
    let a = wrap_angle(a);
    if a > std::f64::consts::FRAC_PI_2 {
        a - std::f64::consts::PI
    } else if a <= -std::f64::consts::FRAC_PI_2 {
        a + std::f64::consts::PI
    } else {
        a
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
        self.trajectory = None;
    }

    fn act(
        &mut self,
        obs: &Observation,
        scene: &SceneGraph,
        skill: &Skill,
    ) -> Result<ActionChunk, PolicyError> {
        if self.neutral_yaw.is_none() {
            self.neutral_yaw = Some(yaw_of(&obs.ee_in_base.rotation));
        }
        if self.trajectory.is_none() {
            self.trajectory = Some(match skill {
                Skill::Pick { object } => self.plan_pick(obs, scene, object)?,
                Skill::Place { object, into } => self.plan_place(obs, scene, object, into)?,
            });
        }
        let traj = self.trajectory.as_ref().expect("set above");
        let dt = self.cfg.action_dt;
        let t0 = obs.stamp;
        let remaining = traj.end() - t0;
        let completes = remaining <= self.cfg.execute as f64 * dt + 1e-9;
        let n = if completes {
            ((remaining / dt).ceil() as usize).max(1)
        } else {
            self.cfg.horizon
        };
        let actions = (0..n)
            .map(|i| {
                let (pose, g) = traj.sample(t0 + (i + 1) as f64 * dt);
                Action {
                    ee_target_in_base: pose,
                    gripper_width_m: g,
                }
            })
            .collect();
        Ok(ActionChunk {
            start: t0,
            dt,
            actions,
            execute: self.cfg.execute,
            completes_skill: completes,
        })
    }
}
