//! What the agent does between a failed attempt of a learned policy and its next skill: the hand
//! withdraws straight up, pointing down, to the height where demonstrated skills start.
//!
//! A learned policy is only as good as the states its demonstrations cover. The expert starts
//! every pick from home or from above the bin after a place, gripper open and pointing down; it
//! never starts one with the hand on the table beside a dropped object, tilted against the bin's
//! wall, or closed on air, which is where a failed attempt leaves it. Measured on the generalist
//! candidate (varied seeds 0-99): retried picks that started there timed out again and again;
//! the same picks started from above succeeded.

use nalgebra::UnitQuaternion;

use crate::rotation::{pose, top_down, yaw_of};
use crate::types::{Action, ActionChunk, ChunkSource, Observation, SceneGraph};

/// Where the expert's place ends above the container's rim (its retreat), which is where the
/// demonstrated pick that follows starts.
pub const WITHDRAW_ABOVE_RIM_M: f64 = 0.1;
/// The lowest withdrawal above the table: the expert's carry height.
pub const WITHDRAW_ABOVE_TABLE_M: f64 = 0.2;
/// Period of the withdrawal's targets (s): the policies' action period.
pub const WITHDRAW_DT_S: f64 = 0.1;
/// Gentle: the hand may be caught on something it has to come free of.
const SPEED_M_S: f64 = 0.25;
const TURN_RAD_S: f64 = 1.0;
/// Open gripper width of the demonstrations (the safety filter clamps it to the gripper's).
const OPEN_WIDTH_M: f64 = 0.08;
/// Targets held at the top so the controller settles there before the policy takes over.
const SETTLE_STEPS: usize = 3;

/// The withdrawal from where `obs` has the hand: straight up to the withdrawal height, turned to
/// point down about its own yaw, the gripper opened unless it `holding` an object (a place that
/// is tried again carries it up). `None` when the hand is already there.
pub fn withdrawal(obs: &Observation, scene: &SceneGraph, holding: bool) -> Option<ActionChunk> {
    let here = obs.ee_in_base;
    let rim = scene
        .containers
        .iter()
        .map(|c| c.pose_in_base.translation.z + c.inner_extents.z + WITHDRAW_ABOVE_RIM_M)
        .fold(f64::NEG_INFINITY, f64::max);
    let height = rim.max(scene.table_height_m + WITHDRAW_ABOVE_TABLE_M);
    let rise = (height - here.translation.z).max(0.0);
    let down: UnitQuaternion<f64> = top_down(yaw_of(&here.rotation));
    let turn = here.rotation.angle_to(&down);
    if rise < 0.01 && turn < 0.1 {
        return None;
    }
    let steps = ((rise / SPEED_M_S).max(turn / TURN_RAD_S) / WITHDRAW_DT_S).ceil() as usize;
    let steps = steps.max(1);
    let width = if holding { 0.0 } else { OPEN_WIDTH_M };
    let actions = (1..=steps + SETTLE_STEPS)
        .map(|k| {
            let s = (k as f64 / steps as f64).min(1.0);
            // Smoothstep: no jump in speed at either end.
            let s = s * s * (3.0 - 2.0 * s);
            let mut p = here.translation.vector;
            p.z += rise * s;
            Action {
                ee_target_in_base: pose(p, here.rotation.slerp(&down, s)),
                gripper_width_m: width,
            }
        })
        .collect::<Vec<_>>();
    Some(ActionChunk {
        start: obs.stamp,
        dt: WITHDRAW_DT_S,
        execute: actions.len(),
        actions,
        completes_skill: false,
        source: ChunkSource::Recovery,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Container, GripperState, JointState};
    use nalgebra::{Isometry3, Translation3, Vector3};

    fn at(hand: Isometry3<f64>) -> Observation {
        Observation {
            stamp: 3.0,
            joints: JointState {
                names: vec![],
                position: vec![],
                velocity: vec![],
                effort: vec![],
                stamp: 3.0,
            },
            gripper: GripperState {
                width_m: 0.0,
                force_n: 0.0,
            },
            ee_in_base: hand,
            camera: None,
            privileged: None,
        }
    }

    fn table_with_bin(bin_z: f64) -> SceneGraph {
        SceneGraph {
            stamp: 0.0,
            objects: vec![],
            containers: vec![Container {
                id: "bin".into(),
                class: "bin".into(),
                pose_in_base: Isometry3::translation(0.5, 0.4, bin_z),
                inner_extents: Vector3::new(0.28, 0.22, 0.1),
            }],
            table_height_m: 0.0,
        }
    }

    #[test]
    fn a_hand_low_and_tilted_rises_straight_up_and_turns_to_point_down() {
        // Down on the table, tilted 0.6 rad, yaw 0.4, fingers closed on air.
        let tilted = UnitQuaternion::from_axis_angle(&Vector3::y_axis(), 0.6) * top_down(0.4);
        let hand = Isometry3::from_parts(Translation3::new(0.6, -0.2, 0.03), tilted);
        let c = withdrawal(&at(hand), &table_with_bin(0.01), false).expect("a withdrawal");
        assert_eq!(c.source, ChunkSource::Recovery);
        assert_eq!(c.execute, c.actions.len());
        let last = c.actions.last().unwrap();
        let p = last.ee_target_in_base.translation.vector;
        // Rim at 0.11 m, plus 0.1 m: above the 0.2 m carry height.
        assert!((p - Vector3::new(0.6, -0.2, 0.21)).norm() < 1e-9, "{p}");
        assert!(
            last.ee_target_in_base
                .rotation
                .angle_to(&top_down(yaw_of(&tilted)))
                < 1e-9
        );
        assert!(c.actions.iter().all(|a| a.gripper_width_m == OPEN_WIDTH_M));
        // Straight up, never faster than the withdrawal's speed.
        let mut prev = hand.translation.vector;
        for a in &c.actions {
            let q = a.ee_target_in_base.translation.vector;
            assert!((q.xy() - prev.xy()).norm() < 1e-12);
            assert!(q.z >= prev.z && q.z - prev.z <= 1.5 * SPEED_M_S * WITHDRAW_DT_S + 1e-9);
            prev = q;
        }
    }

    #[test]
    fn a_held_object_stays_gripped_and_a_hand_already_up_stays() {
        let hand = Isometry3::from_parts(Translation3::new(0.6, -0.2, 0.1), top_down(0.0));
        let c = withdrawal(&at(hand), &table_with_bin(0.01), true).unwrap();
        assert!(c.actions.iter().all(|a| a.gripper_width_m == 0.0));
        // With no container the carry height (0.2 m) is the withdrawal height.
        let mut bare = table_with_bin(0.0);
        bare.containers.clear();
        let up = Isometry3::from_parts(Translation3::new(0.6, -0.2, 0.25), top_down(1.0));
        assert!(withdrawal(&at(up), &bare, false).is_none());
        // A bin standing on a box raises it.
        let c = withdrawal(&at(up), &table_with_bin(0.1), false).unwrap();
        let z = c.actions.last().unwrap().ee_target_in_base.translation.z;
        assert!((z - 0.3).abs() < 1e-9, "{z}");
    }
}
