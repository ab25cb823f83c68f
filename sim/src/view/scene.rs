//! What is static about a scene, for drawing it: every body with its shapes, poses within
//! the body and colours, taken once from the world.

use std::collections::HashMap;

use nalgebra::{Isometry3, Translation3, UnitQuaternion, Vector3};

use crate::camera::{color_rgb, nearest_container, ROBOT_RGB, TABLE_RGB};
use crate::convert::from_rapier;
use crate::groups;
use crate::world::World;

use super::*;

/// A primitive in its body's frame. Axes as rapier's: cylinders and capsules along y.
#[derive(Clone, Debug, PartialEq)]
pub enum ShapeModel {
    Cuboid { half_extents: [f32; 3] },
    Cylinder { half_height: f32, radius: f32 },
    Capsule { half_height: f32, radius: f32 },
    Ball { radius: f32 },
}

/// One collider of a body: its shape, where it sits in the body, and its colour.
#[derive(Clone, Debug)]
pub struct PartModel {
    pub shape: ShapeModel,
    pub in_body: Isometry3<f64>,
    pub rgb: [f32; 3],
}

/// What a body is, which also says where its pose comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum BodyRole {
    /// Table, floor, containers: never move.
    Fixed,
    /// A link of the robot, posed by the kinematics from joint positions.
    Link(String),
    /// A scenario object, posed by its frame.
    Object(String),
}

#[derive(Clone, Debug)]
pub struct BodyModel {
    pub name: String,
    pub role: BodyRole,
    pub parts: Vec<PartModel>,
    /// The pose at the start of the episode.
    pub initial: Isometry3<f64>,
}

/// Everything static about a scene, for drawing it.
#[derive(Clone, Debug)]
pub struct SceneModel {
    pub scenario: String,
    pub seed: u64,
    pub instruction: String,
    pub bodies: Vec<BodyModel>,
    /// Centre of the table's top, where a viewer looks first.
    pub focus: [f64; 3],
    kinematics: LinkTree,
}

impl SceneModel {
    /// The bodies of `world` (in rapier's body order, which is deterministic) with their
    /// colliders' shapes.
    pub fn from_world(world: &World) -> Result<Self, ViewError> {
        let scenario = &world.scenario;
        let link_of: HashMap<_, _> = world
            .robot
            .link_bodies
            .iter()
            .map(|(l, h)| (*h, l.clone()))
            .collect();
        let object_of: HashMap<_, _> = world
            .objects
            .iter()
            .map(|o| (o.body, &o.instance))
            .collect();
        let table_thickness = scenario.table.size[2];
        let mut bodies = Vec::new();
        for (handle, body) in world.physics.bodies.iter() {
            let (name, role, rgb) = if let Some(link) = link_of.get(&handle) {
                (link.clone(), BodyRole::Link(link.clone()), ROBOT_RGB)
            } else if let Some(o) = object_of.get(&handle) {
                (
                    o.id.clone(),
                    BodyRole::Object(o.id.clone()),
                    color_rgb(&o.color),
                )
            } else {
                ("fixed".to_string(), BodyRole::Fixed, TABLE_RGB)
            };
            let initial = from_rapier(body.position());
            let mut parts = Vec::new();
            for ch in body.colliders() {
                let Some(c) = world.physics.colliders.get(*ch) else {
                    continue;
                };
                let in_body = c
                    .position_wrt_parent()
                    .map(from_rapier)
                    .unwrap_or_else(Isometry3::identity);
                let member = c.collision_groups().memberships;
                let rgb = if member == groups::CONTAINER.memberships {
                    container_rgb(world, &(initial * in_body))
                } else if member == groups::FINGER.memberships {
                    [0.25, 0.25, 0.27]
                } else if member == groups::TABLE.memberships
                    && in_body.translation.z < -table_thickness
                {
                    // The floor under the table.
                    [0.30, 0.31, 0.33]
                } else {
                    rgb
                };
                let Some((shape, fix)) = shape_model(c.shape()) else {
                    tracing::debug!("viewer: a collider of {name} has a shape it cannot draw");
                    continue;
                };
                parts.push(PartModel {
                    shape,
                    in_body: in_body * fix,
                    rgb: rgb.map(|v| v as f32),
                });
            }
            bodies.push(BodyModel {
                name,
                role,
                parts,
                initial,
            });
        }
        let urdf =
            urdf_rs::read_from_string(&world.urdf_text).map_err(|e| ViewError::Scenario {
                path: world.scenario.source.display().to_string(),
                message: format!("malformed URDF: {e}"),
            })?;
        let t = &scenario.table;
        Ok(Self {
            scenario: scenario.name.clone(),
            seed: world.seed,
            instruction: scenario.instruction.clone(),
            bodies,
            focus: [t.center[0], t.center[1], 0.0],
            kinematics: LinkTree::new(&urdf, &world.arm.base_link),
        })
    }

    /// Every body's pose for joint positions (by joint name; prismatic finger joints missing
    /// from `joints` open to `gripper_width_m / 2`) and object frames (objects missing keep
    /// `fallback`'s pose).
    pub fn frame(
        &self,
        t: f64,
        joints: &HashMap<String, f64>,
        gripper_width_m: f64,
        objects: &HashMap<String, Isometry3<f64>>,
        fallback: Option<&ViewFrame>,
    ) -> ViewFrame {
        let links = self.kinematics.link_poses(joints, gripper_width_m / 2.0);
        let poses = self
            .bodies
            .iter()
            .enumerate()
            .map(|(i, b)| match &b.role {
                BodyRole::Fixed => b.initial,
                BodyRole::Link(l) => links.get(l).copied().unwrap_or(b.initial),
                BodyRole::Object(id) => objects
                    .get(id)
                    .copied()
                    .or_else(|| fallback.map(|f| f.poses[i]))
                    .unwrap_or(b.initial),
            })
            .collect();
        ViewFrame { t, poses }
    }

    /// The frame at the start of the episode.
    pub fn initial_frame(&self) -> ViewFrame {
        ViewFrame {
            t: 0.0,
            poses: self.bodies.iter().map(|b| b.initial).collect(),
        }
    }
}

fn container_rgb(world: &World, p: &Isometry3<f64>) -> [f64; 3] {
    let k = nearest_container(world, &p.translation.vector);
    world
        .scenario
        .containers
        .get(k)
        .map(|c| color_rgb(&c.color))
        .unwrap_or(TABLE_RGB)
}

/// The drawable form of a collider shape, and the pose that puts it along its axis.
fn shape_model(shape: &dyn rapier3d::parry::shape::Shape) -> Option<(ShapeModel, Isometry3<f64>)> {
    let id = Isometry3::identity();
    if let Some(c) = shape.as_cuboid() {
        let h = c.half_extents;
        return Some((
            ShapeModel::Cuboid {
                half_extents: [h.x, h.y, h.z],
            },
            id,
        ));
    }
    if let Some(c) = shape.as_cylinder() {
        return Some((
            ShapeModel::Cylinder {
                half_height: c.half_height,
                radius: c.radius,
            },
            id,
        ));
    }
    if let Some(b) = shape.as_ball() {
        return Some((ShapeModel::Ball { radius: b.radius }, id));
    }
    if let Some(c) = shape.as_capsule() {
        // A capsule is a segment with a radius; drawn as one along y through the segment.
        let a = Vector3::new(c.segment.a.x, c.segment.a.y, c.segment.a.z).cast::<f64>();
        let b = Vector3::new(c.segment.b.x, c.segment.b.y, c.segment.b.z).cast::<f64>();
        let axis = b - a;
        let rot = UnitQuaternion::rotation_between(&Vector3::y(), &axis).unwrap_or_else(|| {
            UnitQuaternion::from_axis_angle(&Vector3::x_axis(), std::f64::consts::PI)
        });
        let mid = (a + b) / 2.0;
        return Some((
            ShapeModel::Capsule {
                half_height: (axis.norm() / 2.0) as f32,
                radius: c.radius,
            },
            Isometry3::from_parts(Translation3::from(mid), rot),
        ));
    }
    None
}
