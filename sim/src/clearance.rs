//! How close the hand came to what the plan says to keep away from: the smallest distance
//! between the hand's colliders (the body carrying the TCP and the fingers) and each such
//! object's collider over the episode, judged from the world's true geometry.

use embody_agent::grasp::{self, DEFAULT_MIN_FINGER_CLEARANCE_M};
use embody_agent::types::{Constraint, Plan, SceneGraph, SceneObject, Skill};
use rapier3d::parry::query;
use rapier3d::prelude::*;
use serde::{Deserialize, Serialize};

use crate::world::World;

/// One keep-away constraint, measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Clearance {
    pub object: String,
    pub margin_m: f64,
    /// The smallest hand-to-object distance over the episode (m); 0 when they touched.
    pub min_distance_m: f64,
    /// When it came that close (robot clock, s).
    pub closest_at_s: f64,
    /// The hand stayed at least the margin away throughout.
    pub held: bool,
    /// Every pick the plan asks for has a grasp whose palm keeps the margin (judged at the
    /// objects' start poses, `grasp::keep_away_clearance`): where it is false, grasping a
    /// neighbour brings the 20 cm palm within the margin whichever way it turns, and no
    /// policy can hold the constraint.
    pub grasps_clear: bool,
}

/// Watches the hand against the plan's keep-away objects.
#[derive(Debug, Default)]
pub struct ClearanceMeter {
    watched: Vec<Watched>,
    /// The hand's colliders (the TCP's body and the fingers), found once per plan.
    hand: Vec<ColliderHandle>,
}

/// One keep-away object under watch.
#[derive(Debug)]
struct Watched {
    object: String,
    margin_m: f64,
    /// Its index in the world's objects; `None` when the world lacks it.
    index: Option<usize>,
    grasps_clear: bool,
    /// The closest approach so far (m) and when (s).
    closest: (f64, f64),
}

impl ClearanceMeter {
    /// The plan's constraints: each keep-away object is watched from now on (an id the world
    /// lacks is reported with no distance; validation keeps plans from naming one).
    pub fn set(&mut self, world: &World, plan: &Plan) {
        let scene = true_scene(world);
        self.watched = plan
            .constraints
            .iter()
            .map(|c| match c {
                Constraint::KeepAway { object, margin_m } => Watched {
                    object: object.clone(),
                    margin_m: *margin_m,
                    index: world.objects.iter().position(|o| &o.instance.id == object),
                    grasps_clear: grasps_can_keep(&scene, plan, c),
                    closest: (f64::INFINITY, world.time()),
                },
            })
            .collect();
        self.hand = hand_colliders(world);
        self.check(world);
    }

    /// After robot time passed: the hand's distance to each watched object.
    pub fn check(&mut self, world: &World) {
        let colliders = &world.physics.colliders;
        let hand: Vec<&Collider> = self.hand.iter().filter_map(|h| colliders.get(*h)).collect();
        for w in &mut self.watched {
            let Some(o) = w.index.and_then(|i| world.objects.get(i)) else {
                continue;
            };
            for oc in colliders_of(world, o.body) {
                for hc in &hand {
                    if let Ok(d) =
                        query::distance(hc.position(), hc.shape(), oc.position(), oc.shape())
                    {
                        let d = f64::from(d.distance);
                        if d < w.closest.0 {
                            w.closest = (d, world.time());
                            tracing::trace!(object = o.instance.id, d, t = world.time(), tcp = ?world.tcp_pose().translation.vector.as_slice(), "closer");
                        }
                    }
                }
            }
        }
    }

    /// Every watched object with the closest the hand came.
    pub fn clearances(&self) -> Vec<Clearance> {
        self.watched
            .iter()
            .map(|w| Clearance {
                object: w.object.clone(),
                margin_m: w.margin_m,
                min_distance_m: w.closest.0,
                closest_at_s: w.closest.1,
                held: w.closest.0 >= w.margin_m,
                grasps_clear: w.grasps_clear,
            })
            .collect()
    }
}

/// Whether every pick `plan` asks for has a grasp whose palm keeps `c`'s margin in `scene`.
fn grasps_can_keep(scene: &SceneGraph, plan: &Plan, c: &Constraint) -> bool {
    let one = std::slice::from_ref(c);
    plan.steps.iter().all(|s| match s {
        Skill::Pick { object } => scene.object(object).is_none_or(|o| {
            grasp::grasp_yaw_avoiding(scene, object, DEFAULT_MIN_FINGER_CLEARANCE_M, one)
                .is_some_and(|y| grasp::keep_away_clearance(scene, o, y, one) >= 0.0)
        }),
        Skill::Place { .. } => true,
    })
}

/// The scene as it truly is (no perception noise).
fn true_scene(world: &World) -> SceneGraph {
    SceneGraph {
        stamp: world.time(),
        objects: world
            .object_infos()
            .into_iter()
            .zip(&world.objects)
            .map(|(i, o)| SceneObject {
                id: i.id,
                class: i.class,
                color: i.color,
                shape: i.shape,
                pose_in_base: world.body_pose(o.body),
                extents: i.extents,
            })
            .collect(),
        containers: world.containers.clone(),
        table_height_m: 0.0,
    }
}

fn colliders_of(world: &World, body: RigidBodyHandle) -> Vec<&Collider> {
    world
        .physics
        .bodies
        .get(body)
        .map(|b| {
            b.colliders()
                .iter()
                .filter_map(|h| world.physics.colliders.get(*h))
                .collect()
        })
        .unwrap_or_default()
}

/// The colliders of the body carrying the TCP and of the fingers.
fn hand_colliders(world: &World) -> Vec<ColliderHandle> {
    let mut bodies = vec![world.robot.tcp_body];
    for h in &world.robot.finger_joints {
        if let Some((mb, id)) = world.physics.multibody_joints.get(*h) {
            if let Some(link) = mb.link(id) {
                bodies.push(link.rigid_body_handle());
            }
        }
    }
    bodies.dedup();
    bodies
        .into_iter()
        .filter_map(|b| world.physics.bodies.get(b))
        .flat_map(|b| b.colliders().iter().copied())
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::scenario::Scenario;

    /// At rest at the start the hand is far from every object; an object moved under the
    /// fingers is measured at (near) zero, and the margin is judged against the minimum.
    #[test]
    fn the_closest_approach_of_the_hand_is_measured() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scenarios/table_clearing.toml"
        );
        let mut w = World::new(
            Arc::new(Scenario::from_file(std::path::Path::new(path)).unwrap()),
            3,
        )
        .unwrap();
        let id = w.objects[1].instance.id.clone();
        let mut m = ClearanceMeter::default();
        m.set(
            &w,
            &Plan {
                steps: vec![],
                constraints: vec![
                    Constraint::keep_away(id.clone()),
                    Constraint::keep_away("not_there"),
                ],
            },
        );
        let c = m.clearances();
        assert_eq!(c.len(), 2);
        assert!(c[0].min_distance_m > 0.05 && c[0].held, "{c:?}");
        assert_eq!(c[1].min_distance_m, f64::INFINITY);
        // The object put into the palm (4-10 cm above the TCP): touching.
        let mut palm = w.tcp_pose();
        palm.translation.vector.z += 0.07;
        let h = w.objects[1].body;
        w.physics.bodies[h].set_position(crate::convert::to_rapier(&palm), true);
        w.step();
        m.check(&w);
        let c = m.clearances();
        assert!(c[0].min_distance_m < 0.005 && !c[0].held, "{c:?}");
        assert_eq!(c[0].object, id);
    }
}
