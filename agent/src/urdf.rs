//! Reading a robot description's joint graph: the check that it is a tree, the one walk of
//! that tree from a base link (parents before children), the chain from a base to a tip, and
//! URDF poses. The kinematic model, the simulator's robot builder and the viewer all walk the
//! URDF through here, so they agree on order and on what a joint's origin means.

use std::collections::{HashMap, HashSet};

use nalgebra::{Isometry3, Translation3, UnitQuaternion};
use thiserror::Error;

/// Why a robot description could not be turned into an arm model.
#[derive(Debug, Error)]
pub enum ModelError {
    #[error("cannot read URDF {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("malformed URDF {path}: {message}")]
    Parse { path: String, message: String },
    #[error("URDF {path}: {message}")]
    Invalid { path: String, message: String },
    #[error(
        "URDF {path}: joint '{joint}' names {role} link '{link}', which the URDF does not define"
    )]
    MissingLink {
        path: String,
        joint: String,
        /// `parent` or `child`.
        role: &'static str,
        link: String,
    },
    #[error("URDF {path}: link '{link}' is the child of two joints, '{first}' and '{second}'")]
    TwoParents {
        path: String,
        link: String,
        first: String,
        second: String,
    },
    #[error("URDF {path}: {what} '{name}' is defined twice")]
    Duplicate {
        path: String,
        /// `link` or `joint`.
        what: &'static str,
        name: String,
    },
    #[error("URDF {path}: the joints form a cycle: link '{link}' is its own ancestor through joint(s) {joints}")]
    Cycle {
        path: String,
        link: String,
        /// The cycle's joints, quoted and comma-separated (the first few of a long one).
        joints: String,
    },
}

/// Checks that the URDF's joints form a forest: every joint names links the URDF defines, no
/// link or joint name is used twice, no link has two parent joints and no link is its own
/// ancestor. Everything that walks the joint graph relies on this to end, so it runs before
/// any walk; it is itself linear in the number of joints. `origin` names the URDF in errors.
pub fn check_joint_tree(robot: &urdf_rs::Robot, origin: &str) -> Result<(), ModelError> {
    let path = || origin.to_string();
    let mut links = HashSet::with_capacity(robot.links.len());
    for l in &robot.links {
        if !links.insert(l.name.as_str()) {
            return Err(ModelError::Duplicate {
                path: path(),
                what: "link",
                name: l.name.clone(),
            });
        }
    }
    let mut joint_names = HashSet::with_capacity(robot.joints.len());
    // Each link's parent joint.
    let mut parent_of: HashMap<&str, &urdf_rs::Joint> = HashMap::with_capacity(robot.joints.len());
    for j in &robot.joints {
        if !joint_names.insert(j.name.as_str()) {
            return Err(ModelError::Duplicate {
                path: path(),
                what: "joint",
                name: j.name.clone(),
            });
        }
        for (role, link) in [("parent", &j.parent.link), ("child", &j.child.link)] {
            if !links.contains(link.as_str()) {
                return Err(ModelError::MissingLink {
                    path: path(),
                    joint: j.name.clone(),
                    role,
                    link: link.clone(),
                });
            }
        }
        if let Some(first) = parent_of.insert(j.child.link.as_str(), j) {
            return Err(ModelError::TwoParents {
                path: path(),
                link: j.child.link.clone(),
                first: first.name.clone(),
                second: j.name.clone(),
            });
        }
    }
    // With one parent per link the graph is a forest unless some walk towards the root comes
    // back to a link it has passed. Links already known to reach a root are not walked again,
    // so every link is passed at most twice.
    let mut reaches_root: HashSet<&str> = HashSet::with_capacity(links.len());
    // In file order, so that a URDF with several cycles always reports the same one.
    for start in &robot.links {
        let mut on_path: Vec<&str> = Vec::new();
        let mut on_path_set: HashSet<&str> = HashSet::new();
        let mut link = start.name.as_str();
        while !reaches_root.contains(link) {
            if on_path_set.contains(link) {
                let k = on_path.iter().position(|l| *l == link).unwrap_or(0);
                let cycle = &on_path[k..];
                let mut names: Vec<String> = cycle
                    .iter()
                    .take(12)
                    .map(|l| format!("'{}'", parent_of[l].name))
                    .collect();
                if cycle.len() > names.len() {
                    names.push(format!("and {} more", cycle.len() - names.len()));
                }
                return Err(ModelError::Cycle {
                    path: path(),
                    link: link.to_string(),
                    joints: names.join(", "),
                });
            }
            let Some(j) = parent_of.get(link) else {
                break;
            };
            on_path.push(link);
            on_path_set.insert(link);
            link = j.parent.link.as_str();
        }
        reaches_root.extend(on_path);
    }
    Ok(())
}

/// A URDF `<origin>` as a pose (roll, pitch, yaw about fixed x, y, z, as URDF defines them).
pub fn urdf_pose(p: &urdf_rs::Pose) -> Isometry3<f64> {
    let [x, y, z] = p.xyz.0;
    let [r, pi, yw] = p.rpy.0;
    Isometry3::from_parts(
        Translation3::new(x, y, z),
        UnitQuaternion::from_euler_angles(r, pi, yw),
    )
}

/// Every joint below `base`, each after the joint that places its parent link: depth first,
/// siblings taken last-listed first (the simulator adds bodies in this order, so it is part of
/// what makes a scene's physics reproducible). Each link is entered once, so the walk ends
/// after at most one step per joint whatever the URDF holds; [`check_joint_tree`] is what
/// says the URDF is a tree in the first place.
pub fn tree_joints<'a>(robot: &'a urdf_rs::Robot, base: &str) -> Vec<&'a urdf_rs::Joint> {
    let mut children: HashMap<&str, Vec<&urdf_rs::Joint>> = HashMap::new();
    for j in &robot.joints {
        children.entry(j.parent.link.as_str()).or_default().push(j);
    }
    let mut order = Vec::with_capacity(robot.joints.len());
    let mut entered: HashSet<&str> = HashSet::from([base]);
    let mut frontier = vec![base];
    while let Some(parent) = frontier.pop() {
        for j in children.get(parent).into_iter().flatten() {
            if entered.insert(j.child.link.as_str()) {
                order.push(*j);
                frontier.push(j.child.link.as_str());
            }
        }
    }
    order
}

/// The walk up from a chain's tip reached `link`, which has no parent joint (or came back to a
/// link it had passed), before reaching the base.
#[derive(Debug, Error, PartialEq)]
#[error("link '{link}' is not connected to '{base}'")]
pub struct Unconnected {
    pub link: String,
    pub base: String,
}

/// The joints from `base` down to `tip`, base first.
pub fn chain<'a>(
    robot: &'a urdf_rs::Robot,
    base: &str,
    tip: &str,
) -> Result<Vec<&'a urdf_rs::Joint>, Unconnected> {
    let parent_of: HashMap<&str, &urdf_rs::Joint> = robot
        .joints
        .iter()
        .map(|j| (j.child.link.as_str(), j))
        .collect();
    let mut chain = Vec::new();
    let mut passed = HashSet::new();
    let mut link = tip;
    while link != base {
        let joint = match parent_of.get(link) {
            Some(j) if passed.insert(link) => *j,
            _ => {
                return Err(Unconnected {
                    link: link.to_string(),
                    base: base.to_string(),
                })
            }
        };
        chain.push(joint);
        link = joint.parent.link.as_str();
    }
    chain.reverse();
    Ok(chain)
}
