//! The simulated world: table, floor, containers, objects and the arm in one rapier world,
//! stepped at a fixed dt. Deterministic: same scenario, seed and commands, same bits.

use std::sync::Arc;

use embody_agent::kinematics::ArmModel;
use embody_agent::types::{Container, ObjectPose};
use embody_agent::{Failure, FailureKind, ObjectInfo, ObjectOutcome};
use nalgebra::{Isometry3, Point3, UnitQuaternion, Vector3};
use rapier3d::prelude::*;

use crate::convert::{from_rapier, to_rapier};
use crate::groups;
use crate::robot_builder::{build_robot, RobotHandles};
use crate::sampling::{sample_scene, SceneSample};
use crate::scenario::{ObjectInstance, Scenario, Shape};
use crate::SimError;

/// One object in the world.
pub struct SimObject {
    pub instance: ObjectInstance,
    pub body: RigidBodyHandle,
}

pub struct World {
    pub physics: PhysicsWorld,
    pub scenario: Arc<Scenario>,
    pub seed: u64,
    pub arm: ArmModel,
    pub robot: RobotHandles,
    pub objects: Vec<SimObject>,
    pub containers: Vec<Container>,
    /// The containers as placed for this seed (a scene family draws them).
    pub container_specs: Vec<crate::scenario::ContainerSpec>,
    /// The robot description the world was built from (logs keep it for replay).
    pub urdf_text: String,
    steps: u64,
    dt: f64,
}

impl World {
    /// Builds the scene of `scenario` for `seed`, arm at its home pose.
    pub fn new(scenario: Arc<Scenario>, seed: u64) -> Result<Self, SimError> {
        let urdf_text = scenario.read_urdf()?;
        Self::with_urdf_text(scenario, seed, &urdf_text)
    }

    /// Like [`World::new`] with the robot description given as text (replay uses the copy the
    /// log holds).
    pub fn with_urdf_text(
        scenario: Arc<Scenario>,
        seed: u64,
        urdf_text: &str,
    ) -> Result<Self, SimError> {
        let urdf_path = scenario.urdf_path();
        let urdf = urdf_rs::read_from_string(urdf_text)
            .map_err(|e| SimError::Robot(format!("malformed URDF {}: {e}", urdf_path.display())))?;
        let arm = ArmModel::from_urdf(
            &urdf,
            &urdf_path.display().to_string(),
            &scenario.robot.base_link,
            &scenario.robot.tcp_link,
        )?;
        if arm.dof() != scenario.robot.home.len() {
            return Err(SimError::Robot(format!(
                "{}: robot.home has {} joints, the URDF's arm has {}",
                scenario.source.display(),
                scenario.robot.home.len(),
                arm.dof()
            )));
        }
        if !arm.within_limits(&scenario.robot.home, 1e-9) {
            return Err(SimError::Robot(format!(
                "{}: robot.home is outside the URDF's joint limits",
                scenario.source.display()
            )));
        }
        let SceneSample {
            containers: container_specs,
            objects: instances,
        } = sample_scene(&scenario, seed)?;

        let mut physics = PhysicsWorld::new();
        physics.gravity = Vector::new(0.0, 0.0, scenario.physics.gravity as f32);
        physics.integration_parameters.dt = scenario.physics.dt as f32;
        physics.integration_parameters.num_solver_iterations = scenario.physics.solver_iterations;
        physics.integration_parameters.num_internal_pgs_iterations =
            scenario.physics.pgs_iterations;

        let friction = scenario.physics.friction as f32;
        add_table(&mut physics, &scenario, friction);
        let containers = container_specs
            .iter()
            .map(|c| add_container(&mut physics, c, friction))
            .collect();
        let robot = build_robot(&mut physics, &urdf, &arm, &scenario)?;
        let objects = instances
            .into_iter()
            .map(|instance| {
                let body = add_object(&mut physics, &instance, friction);
                SimObject { instance, body }
            })
            .collect();
        let dt = scenario.physics.dt;
        let mut world = Self {
            physics,
            scenario,
            seed,
            arm,
            robot,
            objects,
            containers,
            container_specs,
            urdf_text: urdf_text.to_string(),
            steps: 0,
            dt,
        };
        let home = world.scenario.robot.home.clone();
        let open = world.max_gripper_width();
        world.set_targets(
            &home,
            &vec![0.0; home.len()],
            open,
            world.scenario.robot.grip_force_n,
        );
        Ok(world)
    }

    pub fn dt(&self) -> f64 {
        self.dt
    }

    pub fn time(&self) -> f64 {
        self.steps as f64 * self.dt
    }

    pub fn steps(&self) -> u64 {
        self.steps
    }

    pub fn step(&mut self) {
        self.physics.step();
        self.steps += 1;
    }

    pub fn max_gripper_width(&self) -> f64 {
        self.arm
            .gripper
            .as_ref()
            .map(|g| g.max_width_m)
            .unwrap_or(0.0)
    }

    /// Sets the arm's motor targets and the gripper's opening and squeeze force.
    pub fn set_targets(&mut self, q: &[f64], dq: &[f64], gripper_width_m: f64, grip_force_n: f64) {
        let r = &self.scenario.robot;
        for (i, h) in self.robot.arm_joints.iter().enumerate() {
            if let Some((mb, id)) = self.physics.multibody_joints.get_mut(*h) {
                if let Some(link) = mb.link_mut(id) {
                    link.joint.data.set_motor(
                        JointAxis::AngX,
                        q[i] as f32,
                        dq[i] as f32,
                        r.arm_stiffness[i] as f32,
                        r.arm_damping[i] as f32,
                    );
                }
            }
        }
        if let Some(h) = self.robot.finger_joints.first() {
            let half = (gripper_width_m / 2.0).clamp(0.0, self.max_gripper_width() / 2.0);
            let max_force = self
                .arm
                .gripper
                .as_ref()
                .map(|g| grip_force_n.min(g.max_effort_n))
                .unwrap_or(grip_force_n);
            if let Some((mb, id)) = self.physics.multibody_joints.get_mut(*h) {
                if let Some(link) = mb.link_mut(id) {
                    link.joint
                        .data
                        .set_motor_position(
                            JointAxis::LinX,
                            half as f32,
                            r.finger_stiffness as f32,
                            r.finger_damping as f32,
                        )
                        .set_motor_max_force(JointAxis::LinX, max_force as f32);
                }
            }
        }
    }

    fn joint_coord(&self, h: MultibodyJointHandle, axis: usize) -> (f64, f64) {
        let Some((mb, id)) = self.physics.multibody_joints.get(h) else {
            return (f64::NAN, f64::NAN);
        };
        let Some(link) = mb.link(id) else {
            return (f64::NAN, f64::NAN);
        };
        let q = link.joint().coords()[axis] as f64;
        let v = mb.joint_velocity(link).get(0).copied().unwrap_or(0.0) as f64;
        (q, v)
    }

    /// Arm joint positions and velocities.
    pub fn arm_state(&self) -> (Vec<f64>, Vec<f64>) {
        self.robot
            .arm_joints
            .iter()
            .map(|h| self.joint_coord(*h, 3))
            .unzip()
    }

    /// Opening between the fingers (m).
    pub fn gripper_width(&self) -> f64 {
        self.robot
            .finger_joints
            .iter()
            .map(|h| self.joint_coord(*h, 0).0)
            .sum::<f64>()
            * if self.robot.finger_joints.len() == 1 {
                2.0
            } else {
                1.0
            }
    }

    /// TCP pose in the base (= world) frame, as the physics has it.
    pub fn tcp_pose(&self) -> Isometry3<f64> {
        self.body_pose(self.robot.tcp_body) * self.robot.tcp_in_body
    }

    pub fn body_pose(&self, h: RigidBodyHandle) -> Isometry3<f64> {
        self.physics
            .bodies
            .get(h)
            .map(|b| from_rapier(b.position()))
            .unwrap_or_else(Isometry3::identity)
    }

    /// True object poses (privileged information).
    pub fn object_poses(&self) -> Vec<ObjectPose> {
        self.objects
            .iter()
            .map(|o| ObjectPose {
                id: o.instance.id.clone(),
                pose_in_base: self.body_pose(o.body),
            })
            .collect()
    }

    /// What a detector would know about each object apart from its pose.
    pub fn object_infos(&self) -> Vec<ObjectInfo> {
        self.objects
            .iter()
            .map(|o| ObjectInfo {
                id: o.instance.id.clone(),
                class: o.instance.class.clone(),
                color: o.instance.color.clone(),
                shape: match o.instance.shape {
                    Shape::Box => embody_agent::ShapeKind::Box,
                    Shape::Cylinder => embody_agent::ShapeKind::Cylinder,
                    Shape::Cup => embody_agent::ShapeKind::Cup,
                },
                extents: Vector3::from(o.instance.extents),
            })
            .collect()
    }

    /// Hash of every body's pose (exact bits): equal hashes mean bit-identical states.
    pub fn state_hash(&self) -> u64 {
        let mut h = Fnv1a::new();
        for (_, b) in self.physics.bodies.iter() {
            let p = b.position();
            for v in [
                p.translation.x,
                p.translation.y,
                p.translation.z,
                p.rotation.x,
                p.rotation.y,
                p.rotation.z,
                p.rotation.w,
            ] {
                h.write(&v.to_bits().to_le_bytes());
            }
            let (v, w) = (b.linvel(), b.angvel());
            for c in [v.x, v.y, v.z, w.x, w.y, w.z] {
                h.write(&c.to_bits().to_le_bytes());
            }
        }
        h.finish()
    }

    /// Where an object is now.
    pub fn location(&self, o: &SimObject) -> Location {
        let p = self.body_pose(o.body).translation.vector;
        let tcp = self.tcp_pose().translation.vector;
        if let Some(c) = self
            .containers
            .iter()
            .find(|c| c.contains(&Point3::from(p), 0.0, 0.03))
        {
            Location::In(c.id.clone())
        } else if p.z < -0.05 {
            Location::Floor
        } else if !self.scenario.on_table(p.x, p.y, 0.0) {
            Location::OffTable
        } else if (p - tcp).norm() < 0.06 && p.z > o.instance.extents[2] / 2.0 + 0.02 {
            Location::Gripper
        } else {
            Location::Table
        }
    }

    /// Where each object ended up, judged against a goal: `goal(id)` is the container the object
    /// must be in, `Some(None)` for "held in the gripper", and `None` for "leave it where it is".
    pub fn object_outcomes(
        &self,
        goal: impl Fn(&str) -> Option<Option<String>>,
    ) -> Vec<ObjectOutcome> {
        self.objects
            .iter()
            .map(|o| {
                let at = self.location(o);
                let (cleared, failure) = match goal(&o.instance.id) {
                    Some(Some(container)) if at == Location::In(container.clone()) => (true, None),
                    Some(Some(container)) => (false, Some(at.failure(Some(&container)))),
                    Some(None) if at == Location::Gripper => (true, None),
                    Some(None) => {
                        let f = at.failure(None);
                        (
                            false,
                            Some(Failure::new(
                                FailureKind::NotHeld,
                                format!("should be held, but is {}", f.detail),
                            )),
                        )
                    }
                    // Not to be moved: anything but the table (or the gripper, mid-task) is a failure.
                    None if matches!(at, Location::Table) => (false, None),
                    None => (
                        false,
                        Some(Failure::new(
                            FailureKind::Disturbed,
                            format!("was not to be moved, but {}", at.failure(None).detail),
                        )),
                    ),
                };
                ObjectOutcome {
                    id: o.instance.id.clone(),
                    cleared,
                    failure,
                }
            })
            .collect()
    }
}

/// Where an object is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    In(String),
    Table,
    Gripper,
    Floor,
    OffTable,
}

impl Location {
    /// Why an object here is not at its goal (`goal`: the container it should be in).
    fn failure(&self, goal: Option<&str>) -> Failure {
        use FailureKind::*;
        match self {
            Location::In(c) if goal.is_some() => {
                Failure::new(WrongContainer, format!("in the wrong container ({c})"))
            }
            Location::In(c) => Failure::new(Disturbed, format!("in {c}")),
            // No attempt failed, yet the object stayed: its skills were given up or never
            // reached.
            Location::Table => Failure::new(LeftOnTable, "still on the table"),
            Location::Gripper => Failure::new(NotReleased, "still in the gripper"),
            Location::Floor => Failure::new(FellOffTable, "fell to the floor"),
            Location::OffTable => Failure::new(FellOffTable, "left the table"),
        }
    }
}

/// 64-bit FNV-1a: tiny, stable across platforms and Rust versions (unlike `DefaultHasher`).
struct Fnv1a(u64);

impl Fnv1a {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= *b as u64;
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

fn add_table(w: &mut PhysicsWorld, s: &Scenario, friction: f32) {
    let t = &s.table;
    let body = w.bodies.insert(RigidBodyBuilder::fixed());
    let top = ColliderBuilder::cuboid(
        t.size[0] as f32 / 2.0,
        t.size[1] as f32 / 2.0,
        t.size[2] as f32 / 2.0,
    )
    .translation(Vector::new(
        t.center[0] as f32,
        t.center[1] as f32,
        -(t.size[2] as f32) / 2.0,
    ))
    .friction(friction)
    .collision_groups(groups::TABLE);
    w.colliders.insert_with_parent(top, body, &mut w.bodies);
    let floor = ColliderBuilder::cuboid(5.0, 5.0, 0.05)
        .translation(Vector::new(0.0, 0.0, -(t.floor_depth as f32) - 0.05))
        .friction(friction)
        .collision_groups(groups::TABLE);
    w.colliders.insert_with_parent(floor, body, &mut w.bodies);
}

fn add_container(
    w: &mut PhysicsWorld,
    c: &crate::scenario::ContainerSpec,
    friction: f32,
) -> Container {
    let [ix, iy, h] = c.inner_size;
    let t = c.wall_thickness;
    let pose = Isometry3::from_parts(
        nalgebra::Translation3::new(c.center()[0], c.center()[1], 0.0),
        UnitQuaternion::from_axis_angle(&Vector3::z_axis(), c.yaw),
    );
    let body = w
        .bodies
        .insert(RigidBodyBuilder::fixed().pose(to_rapier(&pose)));
    let (ix, iy, h, t) = (ix as f32, iy as f32, h as f32, t as f32);
    let parts = [
        // floor
        (
            Vector::new(0.0, 0.0, t / 2.0),
            Vector::new(ix / 2.0 + t, iy / 2.0 + t, t / 2.0),
        ),
        // walls
        (
            Vector::new(ix / 2.0 + t / 2.0, 0.0, t + h / 2.0),
            Vector::new(t / 2.0, iy / 2.0 + t, h / 2.0),
        ),
        (
            Vector::new(-ix / 2.0 - t / 2.0, 0.0, t + h / 2.0),
            Vector::new(t / 2.0, iy / 2.0 + t, h / 2.0),
        ),
        (
            Vector::new(0.0, iy / 2.0 + t / 2.0, t + h / 2.0),
            Vector::new(ix / 2.0, t / 2.0, h / 2.0),
        ),
        (
            Vector::new(0.0, -iy / 2.0 - t / 2.0, t + h / 2.0),
            Vector::new(ix / 2.0, t / 2.0, h / 2.0),
        ),
    ];
    for (at, half) in parts {
        let col = ColliderBuilder::cuboid(half.x, half.y, half.z)
            .translation(at)
            .friction(friction)
            .collision_groups(groups::CONTAINER);
        w.colliders.insert_with_parent(col, body, &mut w.bodies);
    }
    Container {
        id: c.id.clone(),
        class: c.class.clone(),
        pose_in_base: pose * Isometry3::translation(0.0, 0.0, c.wall_thickness),
        inner_extents: Vector3::new(c.inner_size[0], c.inner_size[1], c.inner_size[2]),
    }
}

/// Number of wall segments approximating a cup's round wall.
const CUP_SEGMENTS: usize = 12;

fn add_object(w: &mut PhysicsWorld, o: &ObjectInstance, friction: f32) -> RigidBodyHandle {
    let [ex, ey, ez] = o.extents;
    let pose = Isometry3::from_parts(
        nalgebra::Translation3::new(o.x, o.y, ez / 2.0 + 0.0005),
        UnitQuaternion::from_axis_angle(&Vector3::z_axis(), o.yaw),
    );
    let body = w
        .bodies
        .insert(RigidBodyBuilder::dynamic().pose(to_rapier(&pose)));
    let mass = o.mass as f32;
    let mut colliders: Vec<ColliderBuilder> = Vec::new();
    let upright = Pose::from_rotation(Rotation::from_axis_angle(
        Vector::X,
        std::f32::consts::FRAC_PI_2,
    ));
    match o.shape {
        Shape::Box => colliders.push(
            ColliderBuilder::cuboid(ex as f32 / 2.0, ey as f32 / 2.0, ez as f32 / 2.0).mass(mass),
        ),
        Shape::Cylinder => colliders.push(
            ColliderBuilder::cylinder(ez as f32 / 2.0, ex as f32 / 2.0)
                .position(upright)
                .mass(mass),
        ),
        Shape::Cup => {
            // An open cup: a base disc and a ring of thin wall slabs.
            let r = ex as f32 / 2.0;
            let h = ez as f32;
            let wall = 0.008f32;
            let base_t = 0.006f32;
            colliders.push(
                ColliderBuilder::cylinder(base_t / 2.0, r)
                    .position(Pose::from_parts(
                        Vector::new(0.0, 0.0, -h / 2.0 + base_t / 2.0),
                        upright.rotation,
                    ))
                    .mass(mass * 0.3),
            );
            let seg = CUP_SEGMENTS as f32;
            let half_width = (r - wall / 2.0) * (std::f32::consts::PI / seg).tan() + 0.001;
            for k in 0..CUP_SEGMENTS {
                let a = k as f32 * std::f32::consts::TAU / seg;
                let rot = Rotation::from_axis_angle(Vector::Z, a);
                let at = rot * Vector::new(r - wall / 2.0, 0.0, base_t / 2.0);
                colliders.push(
                    ColliderBuilder::cuboid(wall / 2.0, half_width, (h - base_t) / 2.0)
                        .position(Pose::from_parts(at, rot))
                        .mass(mass * 0.7 / seg),
                );
            }
        }
    }
    for c in colliders {
        w.colliders.insert_with_parent(
            c.friction(friction).collision_groups(groups::OBJECT),
            body,
            &mut w.bodies,
        );
    }
    body
}
