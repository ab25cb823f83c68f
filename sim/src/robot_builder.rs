//! Builds the arm from its URDF as a rapier multibody: one rigid body per moving link (links
//! joined by fixed joints are merged into their parent), position motors on every joint, and the
//! two gripper fingers coupled the way the URDF's mimic tag says.

use std::collections::HashMap;

use embody_agent::kinematics::ArmModel;
use embody_agent::urdf::{tree_joints, urdf_pose};
use nalgebra::{Isometry3, Matrix3, UnitQuaternion, Vector3};
use rapier3d::prelude::*;

use crate::convert::{to_rapier, vec};
use crate::groups;
use crate::scenario::Scenario;
use crate::SimError;

/// Handles of the arm inside the physics world.
pub struct RobotHandles {
    /// Multibody joint of each arm joint, in `ArmModel` order.
    pub arm_joints: Vec<MultibodyJointHandle>,
    /// Finger joints: the driven one first, then the mimicking one (if any).
    pub finger_joints: Vec<MultibodyJointHandle>,
    /// Body carrying the TCP, and the TCP's pose in it.
    pub tcp_body: RigidBodyHandle,
    pub tcp_in_body: Isometry3<f64>,
    pub root: RigidBodyHandle,
    /// Every body of the robot with the link it stands for (links joined by fixed joints share
    /// their nearest moving ancestor's body), sorted by link name.
    pub link_bodies: Vec<(String, RigidBodyHandle)>,
}

/// Rotation taking the x axis onto `axis` (rapier's one-DoF joints move along/about x).
fn x_to(axis: &Vector3<f64>) -> UnitQuaternion<f64> {
    let a = axis.normalize();
    UnitQuaternion::rotation_between(&Vector3::x(), &a).unwrap_or_else(|| {
        UnitQuaternion::from_axis_angle(&Vector3::z_axis(), std::f64::consts::PI)
    })
}

fn shape_of(g: &urdf_rs::Geometry, link: &str) -> Result<(SharedShape, Isometry3<f64>), SimError> {
    let unsupported = |what: &str| {
        SimError::Robot(format!(
            "link '{link}': {what} collision geometry is not supported"
        ))
    };
    Ok(match g {
        urdf_rs::Geometry::Box { size } => {
            let [x, y, z] = size.0;
            (
                SharedShape::cuboid(x as f32 / 2.0, y as f32 / 2.0, z as f32 / 2.0),
                Isometry3::identity(),
            )
        }
        // URDF cylinders and capsules run along z; parry's along y.
        urdf_rs::Geometry::Cylinder { radius, length } => (
            SharedShape::cylinder(*length as f32 / 2.0, *radius as f32),
            Isometry3::rotation(Vector3::x() * std::f64::consts::FRAC_PI_2),
        ),
        urdf_rs::Geometry::Capsule { radius, length } => (
            SharedShape::capsule_z(*length as f32 / 2.0, *radius as f32),
            Isometry3::identity(),
        ),
        urdf_rs::Geometry::Sphere { radius } => {
            (SharedShape::ball(*radius as f32), Isometry3::identity())
        }
        urdf_rs::Geometry::Mesh { .. } => return Err(unsupported("mesh")),
    })
}

fn mass_properties(link: &urdf_rs::Link, link_in_body: &Isometry3<f64>) -> Option<MassProperties> {
    let i = &link.inertial;
    if i.mass.value <= 0.0 {
        return None;
    }
    let t = &i.inertia;
    let m = Matrix3::new(
        t.ixx, t.ixy, t.ixz, t.ixy, t.iyy, t.iyz, t.ixz, t.iyz, t.izz,
    );
    let frame = link_in_body * urdf_pose(&i.origin);
    // Inertia about the COM expressed in the body frame: R I R^T.
    let r = frame.rotation.to_rotation_matrix();
    let m = r.matrix() * m * r.matrix().transpose();
    let mf = rapier3d::math::Matrix::from_cols_array(&[
        m[(0, 0)] as f32,
        m[(1, 0)] as f32,
        m[(2, 0)] as f32,
        m[(0, 1)] as f32,
        m[(1, 1)] as f32,
        m[(2, 1)] as f32,
        m[(0, 2)] as f32,
        m[(1, 2)] as f32,
        m[(2, 2)] as f32,
    ]);
    Some(MassProperties::with_inertia_matrix(
        vec(frame.translation.vector),
        i.mass.value as f32,
        mf,
    ))
}

/// Where a link sits: its body (the nearest ancestor through fixed joints, or itself), its
/// pose in that body, and its pose in the world at q = 0.
struct Placed {
    body_link: String,
    in_body: Isometry3<f64>,
    in_world: Isometry3<f64>,
}

/// Inserts the robot into `world`, at the base frame = world frame, in its home pose.
pub fn build_robot(
    world: &mut PhysicsWorld,
    urdf: &urdf_rs::Robot,
    arm: &ArmModel,
    scenario: &Scenario,
) -> Result<RobotHandles, SimError> {
    // The walks below follow the joint graph from the base: a cycle would never end them, a
    // link with two parents would be placed twice. `ArmModel::from_urdf` checked the same, but
    // this is a public entry point of its own.
    embody_agent::kinematics::check_joint_tree(urdf, &scenario.urdf_path().display().to_string())?;
    let order = tree_joints(urdf, &arm.base_link);
    let placed = place_links(&order, &arm.base_link);
    let bodies = add_bodies(world, urdf, arm, &placed, scenario.physics.friction as f32)?;
    let (joint_handles, link_ids) = add_joints(world, &order, &placed, &bodies, arm, scenario)?;

    // A moving joint off the tree under the base link was never built: an error, not a panic.
    let handle_of = |name: &str| {
        joint_handles.get(name).copied().ok_or_else(|| {
            SimError::Robot(format!(
                "{}: joint '{name}' is not connected to the base link '{}'",
                scenario.urdf_path().display(),
                arm.base_link
            ))
        })
    };
    let arm_joints: Vec<MultibodyJointHandle> = arm
        .joints
        .iter()
        .map(|j| handle_of(&j.name))
        .collect::<Result<_, _>>()?;
    let mut finger_joints = Vec::new();
    for j in urdf
        .joints
        .iter()
        .filter(|j| matches!(j.joint_type, urdf_rs::JointType::Prismatic))
    {
        if j.mimic.is_none() {
            finger_joints.insert(0, handle_of(&j.name)?);
        } else {
            finger_joints.push(handle_of(&j.name)?);
        }
    }
    let root = bodies[&arm.base_link];
    pose_at_home(world, urdf, arm, scenario, arm_joints[0], &link_ids)?;

    let tcp = placed
        .get(&arm.tcp_link)
        .ok_or_else(|| SimError::Robot(format!("no link '{}'", arm.tcp_link)))?;
    let tcp_body_handle = bodies[&tcp.body_link];
    let mut link_bodies: Vec<(String, RigidBodyHandle)> = bodies.into_iter().collect();
    link_bodies.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(RobotHandles {
        arm_joints,
        finger_joints,
        tcp_body: tcp_body_handle,
        tcp_in_body: tcp.in_body,
        root,
        link_bodies,
    })
}

/// Every link below `base` placed at q = 0, following `order` (parents first).
fn place_links(order: &[&urdf_rs::Joint], base: &str) -> HashMap<String, Placed> {
    let mut placed: HashMap<String, Placed> = HashMap::new();
    placed.insert(
        base.to_string(),
        Placed {
            body_link: base.to_string(),
            in_body: Isometry3::identity(),
            in_world: Isometry3::identity(),
        },
    );
    for j in order {
        let p = &placed[&j.parent.link];
        let origin = urdf_pose(&j.origin);
        let in_world = p.in_world * origin;
        let entry = if matches!(j.joint_type, urdf_rs::JointType::Fixed) {
            Placed {
                body_link: p.body_link.clone(),
                in_body: p.in_body * origin,
                in_world,
            }
        } else {
            Placed {
                body_link: j.child.link.clone(),
                in_body: Isometry3::identity(),
                in_world,
            }
        };
        placed.insert(j.child.link.clone(), entry);
    }
    placed
}

/// One rigid body per moving link (the base fixed), with the mass and collision shapes of
/// every link joined to it by fixed joints; bodies in link-name order.
fn add_bodies(
    world: &mut PhysicsWorld,
    urdf: &urdf_rs::Robot,
    arm: &ArmModel,
    placed: &HashMap<String, Placed>,
    friction: f32,
) -> Result<HashMap<String, RigidBodyHandle>, SimError> {
    let link_by_name: HashMap<&str, &urdf_rs::Link> =
        urdf.links.iter().map(|l| (l.name.as_str(), l)).collect();
    let finger_links: Vec<&str> = urdf
        .joints
        .iter()
        .filter(|j| matches!(j.joint_type, urdf_rs::JointType::Prismatic))
        .map(|j| j.child.link.as_str())
        .collect();
    let mut bodies: HashMap<String, RigidBodyHandle> = HashMap::new();
    let mut body_links: Vec<&String> = placed.values().map(|p| &p.body_link).collect();
    body_links.sort();
    body_links.dedup();
    for body_link in body_links {
        let mut mprops = MassProperties::default();
        let mut members: Vec<(&String, &Placed)> = placed
            .iter()
            .filter(|(_, p)| &p.body_link == body_link)
            .collect();
        members.sort_by(|a, b| a.0.cmp(b.0));
        for (name, p) in &members {
            if let Some(l) = link_by_name.get(name.as_str()) {
                if let Some(m) = mass_properties(l, &p.in_body) {
                    mprops += m;
                }
            }
        }
        let is_root = *body_link == arm.base_link;
        let builder = if is_root {
            RigidBodyBuilder::fixed()
        } else {
            RigidBodyBuilder::dynamic()
                .additional_mass_properties(mprops)
                .can_sleep(false)
        };
        let handle = world
            .bodies
            .insert(builder.pose(to_rapier(&placed[body_link].in_world)));
        let group = if is_root {
            groups::ROBOT_BASE
        } else if finger_links.contains(&body_link.as_str()) {
            groups::FINGER
        } else {
            groups::ARM
        };
        for (name, p) in &members {
            let Some(l) = link_by_name.get(name.as_str()) else {
                continue;
            };
            for c in &l.collision {
                let (shape, fix) = shape_of(&c.geometry, name)?;
                let pose = p.in_body * urdf_pose(&c.origin) * fix;
                let collider = ColliderBuilder::new(shape)
                    .position(to_rapier(&pose))
                    .density(0.0)
                    .friction(friction)
                    .collision_groups(group);
                world
                    .colliders
                    .insert_with_parent(collider, handle, &mut world.bodies);
            }
        }
        bodies.insert(body_link.clone(), handle);
    }

    Ok(bodies)
}

/// The multibody joints, in tree order so that parents exist before their children: motors
/// with the scenario's gains on the arm and fingers, none on mimicking joints. Returns each
/// joint's handle and its multibody link id.
#[allow(clippy::type_complexity)]
fn add_joints(
    world: &mut PhysicsWorld,
    order: &[&urdf_rs::Joint],
    placed: &HashMap<String, Placed>,
    bodies: &HashMap<String, RigidBodyHandle>,
    arm: &ArmModel,
    scenario: &Scenario,
) -> Result<
    (
        HashMap<String, MultibodyJointHandle>,
        HashMap<String, usize>,
    ),
    SimError,
> {
    let robot = &scenario.robot;
    let mut joint_handles: HashMap<String, MultibodyJointHandle> = HashMap::new();
    let mut link_ids: HashMap<String, usize> = HashMap::new();
    for j in order {
        let (axis_kind, locked) = match j.joint_type {
            urdf_rs::JointType::Fixed => continue,
            urdf_rs::JointType::Revolute | urdf_rs::JointType::Continuous => {
                (JointAxis::AngX, JointAxesMask::LOCKED_REVOLUTE_AXES)
            }
            urdf_rs::JointType::Prismatic => {
                (JointAxis::LinX, JointAxesMask::LOCKED_PRISMATIC_AXES)
            }
            ref other => {
                return Err(SimError::Robot(format!(
                    "joint '{}': {other:?} joints are not supported",
                    j.name
                )))
            }
        };
        let parent = &placed[&j.parent.link];
        let align = x_to(&Vector3::from(j.axis.xyz.0));
        let frame1 = parent.in_body * urdf_pose(&j.origin) * align;
        let frame2 = Isometry3::from_parts(Default::default(), align);
        let is_finger = matches!(j.joint_type, urdf_rs::JointType::Prismatic);
        let (stiffness, damping, max_force) = if is_finger {
            (
                robot.finger_stiffness,
                robot.finger_damping,
                robot.grip_force_n.min(j.limit.effort),
            )
        } else {
            let i = arm
                .joints
                .iter()
                .position(|a| a.name == j.name)
                .ok_or_else(|| {
                    SimError::Robot(format!(
                        "joint '{}' moves but is not on the arm chain",
                        j.name
                    ))
                })?;
            (
                robot.arm_stiffness[i],
                robot.arm_damping[i],
                arm.joints[i].max_effort,
            )
        };
        let mimics = j.mimic.is_some();
        let mut builder = GenericJointBuilder::new(locked)
            .local_frame1(to_rapier(&frame1))
            .local_frame2(to_rapier(&frame2));
        if !mimics {
            builder = builder
                .motor_model(axis_kind, MotorModel::ForceBased)
                .motor_position(axis_kind, 0.0, stiffness as f32, damping as f32)
                .motor_max_force(axis_kind, max_force as f32);
        }
        let handle = world
            .multibody_joints
            .insert(
                bodies[&parent.body_link],
                bodies[&j.child.link],
                builder.build(),
                true,
            )
            .ok_or_else(|| {
                SimError::Robot(format!("joint '{}' closes a kinematic loop", j.name))
            })?;
        joint_handles.insert(j.name.clone(), handle);
        let (_, link_id) = world.multibody_joints.get(handle).ok_or_else(|| {
            SimError::Robot(format!("joint '{}' vanished from the multibody", j.name))
        })?;
        link_ids.insert(j.name.clone(), link_id);
    }

    Ok((joint_handles, link_ids))
}

/// The multibody: no self-collisions (adjacent capsules overlap by design), mimic couplings,
/// the arm at home and the fingers open.
fn pose_at_home(
    world: &mut PhysicsWorld,
    urdf: &urdf_rs::Robot,
    arm: &ArmModel,
    scenario: &Scenario,
    first_arm_joint: MultibodyJointHandle,
    link_ids: &HashMap<String, usize>,
) -> Result<(), SimError> {
    let (mb, _) = world
        .multibody_joints
        .get_mut(first_arm_joint)
        .ok_or_else(|| SimError::Robot("the arm has no multibody".into()))?;
    mb.set_self_contacts_enabled(false);
    for j in urdf.joints.iter() {
        let Some(m) = &j.mimic else { continue };
        let (Some(l1), Some(l2)) = (link_ids.get(&m.joint), link_ids.get(&j.name)) else {
            return Err(SimError::Robot(format!(
                "joint '{}' mimics unknown joint '{}'",
                j.name, m.joint
            )));
        };
        mb.add_dof_coupling(MultibodyDofCoupling {
            link1: *l1,
            dof1: 0,
            axis1: 0,
            link2: *l2,
            dof2: 0,
            axis2: 0,
            coeff: m.multiplier.unwrap_or(1.0) as f32,
            offset: m.offset.unwrap_or(0.0) as f32,
        });
    }
    for (i, q) in scenario.robot.home.iter().enumerate() {
        let id = link_ids[&arm.joints[i].name];
        if let Some(l) = mb.link_mut(id) {
            l.joint.apply_displacement(&[*q as f32]);
        }
    }
    let open = arm
        .gripper
        .as_ref()
        .map(|g| g.max_width_m / 2.0)
        .unwrap_or(0.0);
    for j in urdf
        .joints
        .iter()
        .filter(|j| matches!(j.joint_type, urdf_rs::JointType::Prismatic))
    {
        if let Some(l) = mb.link_mut(link_ids[&j.name]) {
            l.joint.apply_displacement(&[open as f32]);
        }
    }
    mb.forward_kinematics(&world.bodies, true);
    mb.update_rigid_bodies(&mut world.bodies, true);

    Ok(())
}
