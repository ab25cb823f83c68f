//! Link poses from joint positions through the robot description's joint tree (the same walk
//! as the simulator's robot builder), so a log from a real arm plays like a simulated one.

use std::collections::HashMap;

use nalgebra::{Isometry3, Translation3, UnitQuaternion, Vector3};

/// The robot description's joint tree, for link poses from joint positions.
#[derive(Clone, Debug)]
pub(super) struct LinkTree {
    base_link: String,
    /// Joints parents-first.
    joints: Vec<TreeJoint>,
}

#[derive(Clone, Debug)]
struct TreeJoint {
    name: String,
    parent: String,
    child: String,
    origin: Isometry3<f64>,
    axis: Vector3<f64>,
    kind: JointKind,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum JointKind {
    Fixed,
    Revolute,
    Prismatic,
}

impl LinkTree {
    pub(super) fn new(urdf: &urdf_rs::Robot, base_link: &str) -> Self {
        let joints = embody_agent::urdf::tree_joints(urdf, base_link)
            .into_iter()
            .map(|j| TreeJoint {
                name: j.name.clone(),
                parent: j.parent.link.clone(),
                child: j.child.link.clone(),
                origin: embody_agent::urdf::urdf_pose(&j.origin),
                axis: Vector3::from(j.axis.xyz.0),
                kind: match j.joint_type {
                    urdf_rs::JointType::Revolute | urdf_rs::JointType::Continuous => {
                        JointKind::Revolute
                    }
                    urdf_rs::JointType::Prismatic => JointKind::Prismatic,
                    _ => JointKind::Fixed,
                },
            })
            .collect();
        Self {
            base_link: base_link.to_string(),
            joints,
        }
    }

    pub(super) fn link_poses(
        &self,
        positions: &HashMap<String, f64>,
        finger_default: f64,
    ) -> HashMap<String, Isometry3<f64>> {
        let mut poses = HashMap::with_capacity(self.joints.len() + 1);
        poses.insert(self.base_link.clone(), Isometry3::identity());
        for j in &self.joints {
            let parent = poses
                .get(&j.parent)
                .copied()
                .unwrap_or_else(Isometry3::identity);
            let motion = match j.kind {
                JointKind::Fixed => Isometry3::identity(),
                JointKind::Revolute => {
                    let q = positions.get(&j.name).copied().unwrap_or(0.0);
                    let axis =
                        nalgebra::Unit::try_new(j.axis, 1e-12).unwrap_or_else(Vector3::x_axis);
                    Isometry3::from_parts(
                        Translation3::identity(),
                        UnitQuaternion::from_axis_angle(&axis, q),
                    )
                }
                JointKind::Prismatic => {
                    let q = positions.get(&j.name).copied().unwrap_or(finger_default);
                    Isometry3::from_parts(
                        Translation3::from(j.axis.normalize() * q),
                        UnitQuaternion::identity(),
                    )
                }
            };
            poses.insert(j.child.clone(), parent * j.origin * motion);
        }
        poses
    }
}
