//! Which objects the arm disturbed: moved by more than 1 cm, or tipped over, while resting on
//! the table during a skill that was not about them. Judged from the world's true state.

use std::collections::BTreeSet;

use nalgebra::{Isometry3, Vector3};

use crate::world::{Location, World};

/// Displacement (m) beyond which a resting object counts as disturbed.
pub const DISPLACED_M: f64 = 0.01;
/// Tilt of an object's up axis (rad) beyond which it counts as tipped over.
pub const TIPPED_RAD: f64 = std::f64::consts::FRAC_PI_4;

/// Whether `now` is more than 1 cm from `before`, or tipped more than 45 degrees from it.
pub fn moved(before: &Isometry3<f64>, now: &Isometry3<f64>) -> bool {
    let shift = (now.translation.vector - before.translation.vector).norm();
    let up = |p: &Isometry3<f64>| p.rotation * Vector3::z();
    shift > DISPLACED_M || up(before).angle(&up(now)) > TIPPED_RAD
}

/// Watches the objects during an episode. At each skill attempt's start every object resting
/// on the table is given a reference pose; one that is not the skill's own object and leaves
/// its reference (see [`moved`]) while not in a container or the gripper is disturbed.
#[derive(Debug, Default)]
pub struct DisturbanceMeter {
    /// Per object (the world's order): its reference pose while it rests on the table.
    reference: Vec<Option<Isometry3<f64>>>,
    target: Option<String>,
    disturbed: BTreeSet<String>,
}

impl DisturbanceMeter {
    pub fn skill_started(&mut self, world: &World, target: &str) {
        self.target = Some(target.to_string());
        self.reference = world
            .objects
            .iter()
            .map(|o| (world.location(o) == Location::Table).then(|| world.body_pose(o.body)))
            .collect();
    }

    /// After robot time passed: checks every watched object.
    pub fn check(&mut self, world: &World) {
        let Some(target) = &self.target else {
            return;
        };
        for (o, reference) in world.objects.iter().zip(&mut self.reference) {
            let Some(before) = reference else {
                continue;
            };
            if &o.instance.id == target || self.disturbed.contains(&o.instance.id) {
                continue;
            }
            let now = world.body_pose(o.body);
            if moved(before, &now) {
                // Pushed into a container or off the table counts too; held does not.
                if world.location(o) != Location::Gripper {
                    tracing::debug!(
                        object = o.instance.id,
                        during = target,
                        t = world.time(),
                        moved_m = (now.translation.vector - before.translation.vector).norm(),
                        tcp = ?world.tcp_pose().translation.vector.as_slice(),
                        "disturbed"
                    );
                    self.disturbed.insert(o.instance.id.clone());
                }
                *reference = None;
            }
        }
    }

    /// The objects disturbed so far, by id.
    pub fn disturbed(&self) -> Vec<String> {
        self.disturbed.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use nalgebra::{Translation3, UnitQuaternion, Vector3};

    use super::*;
    use crate::scenario::Scenario;

    fn world() -> World {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scenarios/table_clearing.toml"
        );
        World::new(
            Arc::new(Scenario::from_file(std::path::Path::new(path)).unwrap()),
            3,
        )
        .unwrap()
    }

    fn shift(world: &mut World, i: usize, by: Vector3<f64>, tilt_rad: f64) {
        let h = world.objects[i].body;
        let mut pose = world.body_pose(h);
        pose.translation = Translation3::from(pose.translation.vector + by);
        pose.rotation =
            UnitQuaternion::from_axis_angle(&Vector3::x_axis(), tilt_rad) * pose.rotation;
        world.physics.bodies[h].set_position(crate::convert::to_rapier(&pose), true);
    }

    #[test]
    fn objects_moved_or_tipped_during_another_objects_skill_are_disturbed() {
        let mut w = world();
        let ids: Vec<String> = w.objects.iter().map(|o| o.instance.id.clone()).collect();
        let mut m = DisturbanceMeter::default();
        m.skill_started(&w, &ids[0]);
        // The skill's own object may move; a nudge of 5 mm is not a disturbance.
        shift(&mut w, 0, Vector3::new(0.05, 0.0, 0.0), 0.0);
        shift(&mut w, 1, Vector3::new(0.005, 0.0, 0.0), 0.0);
        m.check(&w);
        assert!(m.disturbed().is_empty(), "{:?}", m.disturbed());
        // 2 cm, or tipped by 60 degrees: disturbed, once each.
        shift(&mut w, 2, Vector3::new(0.0, 0.02, 0.0), 0.0);
        shift(&mut w, 3, Vector3::zeros(), 60f64.to_radians());
        m.check(&w);
        m.check(&w);
        assert_eq!(m.disturbed(), vec![ids[2].clone(), ids[3].clone()]);
        // The next skill is about object 1: its earlier nudge plus more is its own business.
        m.skill_started(&w, &ids[1]);
        shift(&mut w, 1, Vector3::new(0.03, 0.0, 0.0), 0.0);
        m.check(&w);
        assert_eq!(m.disturbed().len(), 2);
        assert!(moved(
            &nalgebra::Isometry3::identity(),
            &nalgebra::Isometry3::translation(0.011, 0.0, 0.0)
        ));
    }
}
