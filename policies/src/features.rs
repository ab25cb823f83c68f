//! What the diffusion policy sees and emits, as flat f32 vectors: the layout (names and sizes
//! that a model's metadata must repeat), the 6-D rotation encoding, and min-max normalization.
//!
//! Observations come from perception's scene graph and the robot's own state, never from the
//! simulator's privileged object poses. The grasp frame and the drop spot are computed from the
//! scene graph by `embody_agent::grasp`, the functions the scripted expert chooses with, so what
//! the demonstrations do is a function of what the policy sees.

use embody_agent::grasp;
use embody_agent::rotation::top_down;
use embody_agent::{Action, Observation, SceneGraph, Skill};
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

/// Observation features per step (policies/train/layout.py writes the same list).
pub fn obs_layout() -> Vec<Field> {
    fields(&[
        ("ee_pos_in_base", 3),
        ("ee_rot6d_in_base", 6),
        ("gripper_width", 1),
        ("skill_onehot", 2),
        ("object_pos_in_base", 3),
        ("grasp_rot6d_in_base", 6),
        ("object_extents", 3),
        ("place_spot_pos_in_base", 3),
        ("container_rot6d_in_base", 6),
    ])
}

/// Action features per step.
pub fn action_layout() -> Vec<Field> {
    fields(&[
        ("ee_target_pos_in_base", 3),
        ("ee_target_rot6d_in_base", 6),
        ("gripper_width", 1),
    ])
}

pub const OBS_DIM: usize = 33;
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

/// The observation features of one step; `Err` names what the scene lacks.
pub fn observation_features(
    obs: &Observation,
    scene: &SceneGraph,
    skill: &Skill,
) -> Result<Vec<f32>, FeatureError> {
    let mut out = Vec::with_capacity(OBS_DIM);
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
            let yaw = grasp::grasp_yaw(scene, id, grasp::DEFAULT_MIN_FINGER_CLEARANCE_M)
                .ok_or_else(|| FeatureError::MissingObject(id.clone()))?;
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
    debug_assert_eq!(out.len(), OBS_DIM);
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

    #[test]
    fn layouts_match_their_dimensions_and_actions_round_trip() {
        assert_eq!(obs_layout().iter().map(|f| f.size).sum::<usize>(), OBS_DIM);
        assert_eq!(
            action_layout().iter().map(|f| f.size).sum::<usize>(),
            ACTION_DIM
        );
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
