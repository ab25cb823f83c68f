//! What the diffusion policy sees and emits, as flat f32 vectors: the layout (names and sizes
//! that a model's metadata must repeat), the 6-D rotation encoding, and min-max normalization.
//!
//! Observations come from perception's scene graph and the robot's own state, never from the
//! simulator's privileged object poses. The grasp frame and the drop spot are computed from the
//! scene graph by `embody_agent::grasp`, the functions the scripted expert chooses with, so what
//! the demonstrations do is a function of what the policy sees.

use embody_agent::grasp;
use embody_agent::rotation::top_down;
use embody_agent::{Action, Constraint, Observation, SceneGraph, Skill};
use nalgebra::{Isometry3, Matrix3, Rotation3, Translation3, UnitQuaternion, Vector3};
use serde::{Deserialize, Serialize};

use crate::error::FeatureError;

/// One named slice of a feature vector.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub name: String,
    pub size: usize,
}

fn fields(spec: &[(&str, usize)]) -> Vec<Field> {
    spec.iter()
        .map(|(n, s)| Field {
            name: n.to_string(),
            size: *s,
        })
        .collect()
}

/// Which frame a model's features are expressed in; a model's metadata names it through its
/// field names, and the runtime builds whichever the model was trained on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Everything in the robot's base frame (the first models). What the network learns then
    /// depends on where the table's things stand: a model trained on one layout did not
    /// clear a table with the bin moved.
    Base,
    /// Everything in the skill frame (see [`skill_frame`]): fixed at the first observation of
    /// a skill attempt, at the goal (the object to pick, the drop spot), turned with the grasp
    /// (or the hand) about the vertical, at table height. The expert's motions are the same
    /// in it wherever the object and the bin stand, so demonstrations from every layout teach
    /// one motion instead of many.
    Skill,
}

impl Layout {
    /// Observation fields per step (policies/train/layout.py writes the same lists).
    pub fn obs_fields(self) -> Vec<Field> {
        match self {
            Layout::Base => fields(&[
                ("ee_pos_in_base", 3),
                ("ee_rot6d_in_base", 6),
                ("gripper_width", 1),
                ("skill_onehot", 2),
                ("object_pos_in_base", 3),
                ("grasp_rot6d_in_base", 6),
                ("object_extents", 3),
                ("place_spot_pos_in_base", 3),
                ("container_rot6d_in_base", 6),
            ]),
            Layout::Skill => fields(&[
                ("ee_pos_in_skill", 3),
                ("ee_rot6d_in_skill", 6),
                ("gripper_width", 1),
                ("skill_onehot", 2),
                ("object_pos_in_skill", 3),
                ("object_extents", 3),
                ("goal_pos_in_skill", 3),
                ("goal_rot6d_in_skill", 6),
                ("container_inner_extents", 3),
            ]),
        }
    }

    /// Action fields per step.
    pub fn action_fields(self) -> Vec<Field> {
        match self {
            Layout::Base => fields(&[
                ("ee_target_pos_in_base", 3),
                ("ee_target_rot6d_in_base", 6),
                ("gripper_width", 1),
            ]),
            Layout::Skill => fields(&[
                ("ee_target_pos_in_skill", 3),
                ("ee_target_rot6d_in_skill", 6),
                ("gripper_width", 1),
            ]),
        }
    }

    pub fn obs_dim(self) -> usize {
        match self {
            Layout::Base => BASE_OBS_DIM,
            Layout::Skill => SKILL_OBS_DIM,
        }
    }

    /// The layout whose observation and action fields these are.
    pub fn of(obs: &[Field], action: &[Field]) -> Option<Layout> {
        [Layout::Base, Layout::Skill]
            .into_iter()
            .find(|l| l.obs_fields() == obs && l.action_fields() == action)
    }

    pub fn name(self) -> &'static str {
        match self {
            Layout::Base => "base",
            Layout::Skill => "skill",
        }
    }
}

impl std::str::FromStr for Layout {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "base" => Ok(Layout::Base),
            "skill" => Ok(Layout::Skill),
            other => Err(format!("unknown feature layout '{other}' (skill or base)")),
        }
    }
}

pub const BASE_OBS_DIM: usize = 33;
pub const SKILL_OBS_DIM: usize = 30;
pub const ACTION_DIM: usize = 10;

/// Rotations are encoded as the first two columns of their matrix (Zhou et al. 2019):
/// continuous, unlike quaternions or Euler angles, which matters for a regression target. The
/// log's action chunks use the same encoding.
pub use embody_agent::rotation::to_6d as rot6d;

/// Back to a rotation by Gram-Schmidt; `None` when the two columns are degenerate or not finite.
pub fn rotation_from_6d(v: &[f64]) -> Option<UnitQuaternion<f64>> {
    let a = Vector3::new(v[0], v[1], v[2]);
    let b = Vector3::new(v[3], v[4], v[5]);
    let x = a.try_normalize(1e-6)?;
    let y = (b - x * x.dot(&b)).try_normalize(1e-6)?;
    let z = x.cross(&y);
    let m = Matrix3::from_columns(&[x, y, z]);
    if !m.iter().all(|c| c.is_finite()) {
        return None;
    }
    Some(UnitQuaternion::from_rotation_matrix(
        &Rotation3::from_matrix_unchecked(m),
    ))
}

fn push_pose(out: &mut Vec<f32>, pose: &Isometry3<f64>) {
    out.extend(pose.translation.vector.iter().map(|v| *v as f32));
    out.extend(rot6d(&pose.rotation).iter().map(|v| *v as f32));
}

/// The grasp the expert would take of `id`, keeping away from what the plan says to.
fn grasp_yaw(scene: &SceneGraph, id: &str, avoid: &[Constraint]) -> Result<f64, FeatureError> {
    grasp::grasp_yaw_avoiding(scene, id, grasp::DEFAULT_MIN_FINGER_CLEARANCE_M, avoid)
        .ok_or_else(|| FeatureError::MissingObject(id.to_string()))
}

/// The observation features of one step; `Err` names what the scene lacks. `avoid`: the
/// plan's keep-away constraints (they choose the grasp).
pub fn observation_features(
    obs: &Observation,
    scene: &SceneGraph,
    skill: &Skill,
    avoid: &[Constraint],
) -> Result<Vec<f32>, FeatureError> {
    let mut out = Vec::with_capacity(BASE_OBS_DIM);
    push_pose(&mut out, &obs.ee_in_base);
    out.push(obs.gripper.width_m as f32);
    let (pick, place) = match skill {
        Skill::Pick { .. } => (1.0, 0.0),
        Skill::Place { .. } => (0.0, 1.0),
    };
    out.extend([pick, place]);
    let object = scene
        .object(skill.object())
        .ok_or_else(|| FeatureError::MissingObject(skill.object().to_string()))?;
    // Goals are in the base frame, like the actions: a target is then a linear function of
    // them, which the network fits to the millimetre; in the end effector's frame it is a
    // product with the hand's rotation, which it fitted about a centimetre off.
    out.extend(
        object
            .pose_in_base
            .translation
            .vector
            .iter()
            .map(|v| *v as f32),
    );
    // The grasp the expert would take (pick only: a held object's symmetric yaw can flip).
    match skill {
        Skill::Pick { object: id } => {
            let yaw = grasp_yaw(scene, id, avoid)?;
            out.extend(rot6d(&top_down(yaw)).iter().map(|v| *v as f32));
        }
        Skill::Place { .. } => out.extend([0.0; 6]),
    }
    out.extend(object.extents.iter().map(|v| *v as f32));
    match skill {
        Skill::Place { object: id, into } => {
            let missing = || FeatureError::MissingContainer(into.clone());
            let c = scene.container(into).ok_or_else(missing)?;
            let spot = grasp::place_spot(scene, id, into).ok_or_else(missing)?;
            out.extend(spot.coords.iter().map(|v| *v as f32));
            out.extend(rot6d(&c.pose_in_base.rotation).iter().map(|v| *v as f32));
        }
        Skill::Pick { .. } => out.extend([0.0; 9]),
    }
    debug_assert_eq!(out.len(), BASE_OBS_DIM);
    Ok(out)
}

/// One action from its features; `Err` when they do not describe a pose.
pub fn decode_action(v: &[f32]) -> Result<Action, FeatureError> {
    let f: Vec<f64> = v.iter().map(|x| *x as f64).collect();
    if f.iter().any(|x| !x.is_finite()) {
        return Err(FeatureError::NonFinite(f));
    }
    let rotation = rotation_from_6d(&f[3..9])
        .ok_or_else(|| FeatureError::DegenerateRotation(f[3..9].to_vec()))?;
    Ok(Action {
        ee_target_in_base: Isometry3::from_parts(Translation3::new(f[0], f[1], f[2]), rotation),
        gripper_width_m: f[9].max(0.0),
    })
}

/// The features of one action (the inverse of [`decode_action`]).
pub fn action_features(a: &Action) -> Vec<f32> {
    let mut out = Vec::with_capacity(ACTION_DIM);
    push_pose(&mut out, &a.ee_target_in_base);
    out.push(a.gripper_width_m as f32);
    out
}

/// The skill frame of `skill` from the attempt's first observation: at the object (pick) or at
/// the drop spot (place), at table height, turned about the vertical by the grasp's yaw (pick)
/// or the hand's (place: the expert carries the object without turning it).
pub fn skill_frame(
    obs: &Observation,
    scene: &SceneGraph,
    skill: &Skill,
    avoid: &[Constraint],
) -> Result<Isometry3<f64>, FeatureError> {
    let (x, y, yaw) = match skill {
        Skill::Pick { object: id } => {
            let o = scene
                .object(id)
                .ok_or_else(|| FeatureError::MissingObject(id.clone()))?;
            let yaw = grasp_yaw(scene, id, avoid)?;
            let p = o.pose_in_base.translation.vector;
            (p.x, p.y, yaw)
        }
        Skill::Place { object: id, into } => {
            let spot = grasp::place_spot(scene, id, into)
                .ok_or_else(|| FeatureError::MissingContainer(into.clone()))?;
            let hand_x = obs.ee_in_base.rotation * Vector3::x();
            (spot.x, spot.y, hand_x.y.atan2(hand_x.x))
        }
    };
    Ok(Isometry3::from_parts(
        Translation3::new(x, y, scene.table_height_m),
        UnitQuaternion::from_axis_angle(&Vector3::z_axis(), yaw),
    ))
}

/// The observation features of one step in the skill frame `frame` (see [`Layout::Skill`]).
pub fn skill_observation_features(
    obs: &Observation,
    scene: &SceneGraph,
    skill: &Skill,
    frame: &Isometry3<f64>,
    avoid: &[Constraint],
) -> Result<Vec<f32>, FeatureError> {
    let inv = frame.inverse();
    let mut out = Vec::with_capacity(SKILL_OBS_DIM);
    push_pose(&mut out, &(inv * obs.ee_in_base));
    out.push(obs.gripper.width_m as f32);
    out.extend(match skill {
        Skill::Pick { .. } => [1.0, 0.0],
        Skill::Place { .. } => [0.0, 1.0],
    });
    let object = scene
        .object(skill.object())
        .ok_or_else(|| FeatureError::MissingObject(skill.object().to_string()))?;
    let object_pos = inv * nalgebra::Point3::from(object.pose_in_base.translation.vector);
    out.extend(object_pos.coords.iter().map(|v| *v as f32));
    out.extend(object.extents.iter().map(|v| *v as f32));
    // Where the goal is now (an object nudged since the attempt began, a drop spot moved by
    // what fell into the bin) and how it is turned: the grasp the expert would take now, the
    // bin's walls.
    match skill {
        Skill::Pick { object: id } => {
            let yaw = grasp_yaw(scene, id, avoid)?;
            let grasp = Isometry3::from_parts(
                Translation3::from(object.pose_in_base.translation.vector),
                top_down(yaw),
            );
            push_pose(&mut out, &(inv * grasp));
            out.extend([0.0; 3]);
        }
        Skill::Place { object: id, into } => {
            let missing = || FeatureError::MissingContainer(into.clone());
            let c = scene.container(into).ok_or_else(missing)?;
            let spot = grasp::place_spot(scene, id, into).ok_or_else(missing)?;
            let goal =
                Isometry3::from_parts(Translation3::from(spot.coords), c.pose_in_base.rotation);
            push_pose(&mut out, &(inv * goal));
            out.extend(c.inner_extents.iter().map(|v| *v as f32));
        }
    }
    debug_assert_eq!(out.len(), SKILL_OBS_DIM);
    Ok(out)
}

/// Builds one skill attempt's features in a model's layout and reads its actions back into the
/// base frame. The skill frame is fixed by the attempt's first observation and kept until
/// [`Framer::reset`], so the observations and chunks of one attempt share it (a chunk being
/// blended with the next, or inpainted into it, stays in one frame).
#[derive(Clone, Debug)]
pub struct Framer {
    layout: Layout,
    frame: Option<Isometry3<f64>>,
    /// The plan's keep-away constraints: the grasp the observation and frame carry keeps the
    /// hand away from them (kept across skill attempts).
    avoid: Vec<Constraint>,
}

impl Framer {
    pub fn new(layout: Layout) -> Self {
        Self {
            layout,
            frame: None,
            avoid: Vec::new(),
        }
    }

    /// The plan's keep-away constraints, for every attempt from the next on.
    pub fn set_avoid(&mut self, avoid: &[Constraint]) {
        self.avoid = avoid.to_vec();
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// A new skill attempt: the next observation fixes the frame.
    pub fn reset(&mut self) {
        self.frame = None;
    }

    /// The frame the features are in (the base frame itself for [`Layout::Base`], and before
    /// the attempt's first observation).
    pub fn frame(&self) -> Isometry3<f64> {
        self.frame.unwrap_or_else(Isometry3::identity)
    }

    /// The observation features of one step.
    pub fn observation(
        &mut self,
        obs: &Observation,
        scene: &SceneGraph,
        skill: &Skill,
    ) -> Result<Vec<f32>, FeatureError> {
        match self.layout {
            Layout::Base => observation_features(obs, scene, skill, &self.avoid),
            Layout::Skill => {
                let frame = match self.frame {
                    Some(f) => f,
                    None => {
                        let f = skill_frame(obs, scene, skill, &self.avoid)?;
                        self.frame = Some(f);
                        f
                    }
                };
                skill_observation_features(obs, scene, skill, &frame, &self.avoid)
            }
        }
    }

    /// One action, in the base frame, from its features.
    pub fn decode(&self, v: &[f32]) -> Result<Action, FeatureError> {
        let mut a = decode_action(v)?;
        a.ee_target_in_base = self.frame() * a.ee_target_in_base;
        Ok(a)
    }

    /// The features of one action given in the base frame (the inverse of [`Framer::decode`]).
    pub fn encode(&self, a: &Action) -> Vec<f32> {
        action_features(&Action {
            ee_target_in_base: self.frame().inverse() * a.ee_target_in_base,
            gripper_width_m: a.gripper_width_m,
        })
    }

    /// A displacement given in the base frame, in the features' frame.
    pub fn vector_in_frame(&self, v: &Vector3<f64>) -> Vector3<f64> {
        self.frame().rotation.inverse() * v
    }
}

/// Min-max statistics of a feature vector, as a model's metadata stores them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stats {
    pub min: Vec<f32>,
    pub max: Vec<f32>,
}

/// Maps each feature to [-1, 1] by its range (features that never vary map to 0).
#[derive(Clone, Debug)]
pub struct Normalizer {
    scale: Vec<f32>,
    offset: Vec<f32>,
}

impl Normalizer {
    pub fn new(stats: &Stats, dim: usize) -> Result<Self, FeatureError> {
        if stats.min.len() != dim || stats.max.len() != dim {
            return Err(FeatureError::StatsLength {
                min: stats.min.len(),
                max: stats.max.len(),
                dim,
            });
        }
        let mut scale = Vec::with_capacity(dim);
        let mut offset = Vec::with_capacity(dim);
        for (i, (lo, hi)) in stats.min.iter().zip(&stats.max).enumerate() {
            if !(lo.is_finite() && hi.is_finite()) || hi < lo {
                return Err(FeatureError::StatsRange {
                    index: i,
                    min: *lo,
                    max: *hi,
                });
            }
            let range = hi - lo;
            if range < 1e-4 {
                scale.push(1.0);
                offset.push(-(hi + lo) / 2.0);
            } else {
                let s = 2.0 / range;
                scale.push(s);
                offset.push(-1.0 - s * lo);
            }
        }
        Ok(Self { scale, offset })
    }

    /// Normalizes a sequence of feature vectors laid end to end.
    pub fn normalize(&self, v: &mut [f32]) {
        let d = self.scale.len();
        for (i, x) in v.iter_mut().enumerate() {
            *x = *x * self.scale[i % d] + self.offset[i % d];
        }
    }

    pub fn denormalize(&self, v: &mut [f32]) {
        let d = self.scale.len();
        for (i, x) in v.iter_mut().enumerate() {
            *x = (*x - self.offset[i % d]) / self.scale[i % d];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rot6d_round_trips() {
        for (r, p, y) in [(0.0, 0.0, 0.0), (3.1, 0.2, -1.0), (-0.5, 1.5, 2.9)] {
            let q = UnitQuaternion::from_euler_angles(r, p, y);
            let back = rotation_from_6d(&rot6d(&q)).unwrap();
            assert!(q.angle_to(&back) < 1e-9);
        }
        assert!(rotation_from_6d(&[0.0; 6]).is_none());
        assert!(rotation_from_6d(&[1.0, 0.0, 0.0, 2.0, 0.0, 0.0]).is_none());
    }

    #[test]
    fn normalization_maps_ranges_to_unit_interval_and_back() {
        let n = Normalizer::new(
            &Stats {
                min: vec![0.0, -2.0, 5.0],
                max: vec![1.0, 2.0, 5.0],
            },
            3,
        )
        .unwrap();
        let mut v = vec![0.0, 2.0, 5.0, 1.0, -2.0, 5.0];
        n.normalize(&mut v);
        assert_eq!(v, vec![-1.0, 1.0, 0.0, 1.0, -1.0, 0.0]);
        n.denormalize(&mut v);
        assert_eq!(v, vec![0.0, 2.0, 5.0, 1.0, -2.0, 5.0]);
        assert!(Normalizer::new(
            &Stats {
                min: vec![1.0],
                max: vec![0.0]
            },
            1
        )
        .is_err());
        assert!(Normalizer::new(
            &Stats {
                min: vec![1.0],
                max: vec![2.0]
            },
            2
        )
        .is_err());
    }

    fn table_scene() -> (Observation, SceneGraph) {
        use embody_agent::{Container, GripperState, JointState, SceneObject, ShapeKind};
        let object = |id: &str, x: f64, y: f64, yaw: f64| SceneObject {
            id: id.into(),
            class: "cube".into(),
            color: "red".into(),
            shape: ShapeKind::Box,
            pose_in_base: Isometry3::from_parts(
                Translation3::new(x, y, 0.025),
                UnitQuaternion::from_axis_angle(&Vector3::z_axis(), yaw),
            ),
            extents: Vector3::new(0.05, 0.04, 0.05),
        };
        let scene = SceneGraph {
            stamp: 0.0,
            objects: vec![object("a", 0.5, 0.1, 0.4), object("b", 0.45, 0.2, -0.2)],
            containers: vec![Container {
                id: "bin".into(),
                class: "bin".into(),
                pose_in_base: Isometry3::from_parts(
                    Translation3::new(0.4, -0.3, 0.0),
                    UnitQuaternion::from_axis_angle(&Vector3::z_axis(), 0.3),
                ),
                inner_extents: Vector3::new(0.2, 0.15, 0.1),
            }],
            table_height_m: 0.0,
        };
        let obs = Observation {
            stamp: 0.0,
            joints: JointState {
                names: Vec::new(),
                position: Vec::new(),
                velocity: Vec::new(),
                effort: Vec::new(),
                stamp: 0.0,
            },
            gripper: GripperState {
                width_m: 0.08,
                force_n: 0.0,
            },
            ee_in_base: Isometry3::from_parts(Translation3::new(0.3, 0.0, 0.4), top_down(0.1)),
            camera: None,
            privileged: None,
        };
        (obs, scene)
    }

    /// Everything moved together across the table and turned about the vertical.
    fn moved(
        obs: &Observation,
        scene: &SceneGraph,
        t: &Isometry3<f64>,
    ) -> (Observation, SceneGraph) {
        let mut obs = obs.clone();
        obs.ee_in_base = t * obs.ee_in_base;
        let mut scene = scene.clone();
        for o in &mut scene.objects {
            o.pose_in_base = t * o.pose_in_base;
        }
        for c in &mut scene.containers {
            c.pose_in_base = t * c.pose_in_base;
        }
        (obs, scene)
    }

    #[test]
    fn skill_frame_features_do_not_depend_on_where_the_table_things_stand() {
        let (obs, scene) = table_scene();
        let t = Isometry3::from_parts(
            Translation3::new(-0.15, 0.2, 0.0),
            UnitQuaternion::from_axis_angle(&Vector3::z_axis(), 0.25),
        );
        let (obs2, scene2) = moved(&obs, &scene, &t);
        for skill in [
            Skill::Pick { object: "a".into() },
            Skill::Place {
                object: "a".into(),
                into: "bin".into(),
            },
        ] {
            let mut here = Framer::new(Layout::Skill);
            let mut there = Framer::new(Layout::Skill);
            let f1 = here.observation(&obs, &scene, &skill).unwrap();
            let f2 = there.observation(&obs2, &scene2, &skill).unwrap();
            assert_eq!(f1.len(), SKILL_OBS_DIM);
            for (i, (a, b)) in f1.iter().zip(&f2).enumerate() {
                assert!((a - b).abs() < 1e-5, "{skill}: feature {i}: {a} vs {b}");
            }
            // The base-frame features do change: that is what the skill frame removes.
            let b1 = observation_features(&obs, &scene, &skill, &[]).unwrap();
            let b2 = observation_features(&obs2, &scene2, &skill, &[]).unwrap();
            assert!(b1.iter().zip(&b2).any(|(a, b)| (a - b).abs() > 0.05));
            // One action, decoded in either frame, is the same motion of the moved table.
            let row = here.encode(&Action {
                ee_target_in_base: Isometry3::from_parts(
                    Translation3::new(0.52, 0.08, 0.1),
                    top_down(0.5),
                ),
                gripper_width_m: 0.03,
            });
            let a1 = here.decode(&row).unwrap();
            let a2 = there.decode(&row).unwrap();
            let want = t * a1.ee_target_in_base;
            assert!(
                (want.translation.vector - a2.ee_target_in_base.translation.vector).norm() < 1e-5
            );
            assert!(want.rotation.angle_to(&a2.ee_target_in_base.rotation) < 1e-4);
            assert!(
                (a1.ee_target_in_base.translation.vector - Vector3::new(0.52, 0.08, 0.1)).norm()
                    < 1e-5
            );
        }
    }

    #[test]
    fn the_skill_frame_is_kept_for_the_attempt_and_dropped_on_reset() {
        let (obs, scene) = table_scene();
        let skill = Skill::Pick { object: "a".into() };
        let mut framer = Framer::new(Layout::Skill);
        let first = framer.observation(&obs, &scene, &skill).unwrap();
        // At the object, grasp yaw removed: the grasp is top-down with yaw 0 in the frame.
        assert!(first[12].abs() < 1e-6 && first[13].abs() < 1e-6);
        let frame = framer.frame();
        // The object is nudged: the frame stays, the object's features show the nudge.
        let mut nudged = scene.clone();
        nudged.objects[0].pose_in_base.translation.vector.x += 0.02;
        let f = framer.observation(&obs, &nudged, &skill).unwrap();
        assert_eq!(framer.frame(), frame);
        assert!((f[12] - first[12]).abs() > 0.01 || (f[13] - first[13]).abs() > 0.01);
        framer.reset();
        let after = framer.observation(&obs, &nudged, &skill).unwrap();
        assert!(after[12].abs() < 1e-6 && after[13].abs() < 1e-6);
        // The base layout's frame is the base frame.
        let mut base = Framer::new(Layout::Base);
        assert_eq!(
            base.observation(&obs, &scene, &skill).unwrap(),
            observation_features(&obs, &scene, &skill, &[]).unwrap()
        );
        assert_eq!(base.frame(), Isometry3::identity());
    }

    #[test]
    fn layouts_are_told_apart_by_their_fields() {
        for l in [Layout::Base, Layout::Skill] {
            assert_eq!(Layout::of(&l.obs_fields(), &l.action_fields()), Some(l));
            assert_eq!(
                l.obs_fields().iter().map(|f| f.size).sum::<usize>(),
                l.obs_dim()
            );
            assert_eq!(l.name().parse::<Layout>(), Ok(l));
        }
        assert_eq!(
            Layout::of(&Layout::Base.obs_fields(), &Layout::Skill.action_fields()),
            None
        );
        assert!("world".parse::<Layout>().is_err());
    }

    #[test]
    fn layouts_match_their_dimensions_and_actions_round_trip() {
        for l in [Layout::Base, Layout::Skill] {
            assert_eq!(
                l.action_fields().iter().map(|f| f.size).sum::<usize>(),
                ACTION_DIM
            );
        }
        let a = Action {
            ee_target_in_base: Isometry3::from_parts(
                Translation3::new(0.5, -0.1, 0.3),
                UnitQuaternion::from_euler_angles(3.1, 0.1, 0.4),
            ),
            gripper_width_m: 0.04,
        };
        let b = decode_action(&action_features(&a)).unwrap();
        assert!(
            (a.ee_target_in_base.translation.vector - b.ee_target_in_base.translation.vector)
                .norm()
                < 1e-6
        );
        assert!(
            a.ee_target_in_base
                .rotation
                .angle_to(&b.ee_target_in_base.rotation)
                < 1e-5
        );
        assert!(decode_action(&[f32::NAN; 10]).is_err());
    }
}
