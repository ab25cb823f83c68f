//! Where a top-down grasp closes and where a placed object goes, from the scene graph alone.
//!
//! The scripted expert plans with these and the learned policy's observation carries their
//! results, so every choice in a demonstration is a function of what the policy sees. (When the
//! expert chose from things the policy could not see, such as objects already in the bin, or
//! from a raw object yaw whose symmetry the policy had to work out, the learned policy dithered
//! between the choices.)

use nalgebra::{Isometry3, Point3, Vector2, Vector3};

use crate::rotation::wrap_angle;
use crate::types::{Constraint, SceneGraph, SceneObject, ShapeKind};

/// The wrist yaw (about the base z axis) that grasps start from and return to: the Panda hand's
/// yaw at its home pose. Grasps stay within a quarter turn of it, so joint 7 never winds up
/// against its limit over many picks.
pub const NEUTRAL_GRASP_YAW: f64 = 0.0;

/// Boxes whose sides differ by less than this may be grasped across either side (m).
const NEAR_SQUARE_M: f64 = 0.01;

/// How far outside the side they close across the finger pads land (m).
const FINGER_OUTSIDE_M: f64 = 0.015;

/// Candidate grasp yaws of an object, most preferred first: boxes close across their narrower
/// side (either side of a near-square box), round objects at any yaw in 15 degree steps. The
/// gripper is symmetric, so each is taken within a quarter turn of [`NEUTRAL_GRASP_YAW`] and
/// candidates nearer it come first.
pub fn grasp_yaw_candidates(object: &SceneObject) -> Vec<f64> {
    let neutral = NEUTRAL_GRASP_YAW;
    let e = object.extents;
    let mut c: Vec<f64> = match object.shape {
        ShapeKind::Cylinder | ShapeKind::Cup => (-5..=6)
            .map(|k| neutral + k as f64 * std::f64::consts::PI / 12.0)
            .collect(),
        ShapeKind::Box => {
            let object_yaw = crate::rotation::yaw_of(&object.pose_in_base.rotation);
            let across_x = object_yaw + std::f64::consts::FRAC_PI_2;
            let mut c = vec![if e.x <= e.y { across_x } else { object_yaw }];
            if (e.x - e.y).abs() < NEAR_SQUARE_M {
                c.push(if e.x <= e.y { object_yaw } else { across_x });
            }
            c.into_iter()
                .map(|g| neutral + wrap_angle_half(g - neutral))
                .collect()
        }
    };
    c.sort_by(|a, b| (a - neutral).abs().total_cmp(&(b - neutral).abs()));
    c
}

/// Clearance (m) between the finger pads of a grasp at `yaw` and the nearest other object's
/// bounding circle; infinite when the object is alone.
pub fn finger_clearance(scene: &SceneGraph, object: &SceneObject, yaw: f64) -> f64 {
    let e = object.extents;
    let across = if object.shape == ShapeKind::Box {
        e.x.min(e.y)
    } else {
        e.x
    };
    let half_span = 0.5 * across + FINGER_OUTSIDE_M;
    let p = object.pose_in_base.translation.vector.xy();
    // The hand's y axis (the closing axis) of a top-down grasp at `yaw`, in the base frame.
    let axis = Vector2::new(yaw.sin(), -yaw.cos());
    let fingers = [p + axis * half_span, p - axis * half_span];
    scene
        .objects
        .iter()
        .filter(|o| o.id != object.id)
        .flat_map(|o| {
            let c = o.pose_in_base.translation.vector.xy();
            let r = 0.5 * o.extents.x.hypot(o.extents.y);
            fingers.map(|f| (f - c).norm() - r)
        })
        .fold(f64::INFINITY, f64::min)
}

/// Half the hand's length along its closing axis and half its width across (m): the Panda
/// hand body (0.2 x 0.06 m) sits 4-10 cm above the TCP, below a bin's walls (0.11 m) when a low
/// object is grasped beside one.
const HAND_HALF_LENGTH_M: f64 = 0.1;
const HAND_HALF_WIDTH_M: f64 = 0.03;
/// Containers list inner extents; their walls are taken this thick (m).
const WALL_M: f64 = 0.01;
/// The widest side a grasp may close across (m): the gripper opens 8 cm.
const WIDEST_GRASP_M: f64 = 0.07;

/// Points sampling the hand's footprint of a top-down grasp of `object` at `yaw` (base frame,
/// x-y): 21 along the closing axis by 3 across.
fn hand_footprint(object: &SceneObject, yaw: f64) -> impl Iterator<Item = Vector2<f64>> {
    let p = object.pose_in_base.translation.vector.xy();
    let axis = Vector2::new(yaw.sin(), -yaw.cos());
    let across = Vector2::new(yaw.cos(), yaw.sin());
    (-10..=10).flat_map(move |i| {
        [-1.0, 0.0, 1.0].map(|j| {
            p + axis * (HAND_HALF_LENGTH_M * i as f64 / 10.0) + across * (HAND_HALF_WIDTH_M * j)
        })
    })
}

/// Signed distance (m) in the x-y plane from `q` to the rectangle of half sides `hx`, `hy`
/// centred and turned as `pose`: positive outside, negative inside.
fn rectangle_distance(pose: &Isometry3<f64>, hx: f64, hy: f64, q: Vector2<f64>) -> f64 {
    let local = pose.inverse_transform_point(&Point3::new(q.x, q.y, pose.translation.z));
    let (dx, dy) = (local.x.abs() - hx, local.y.abs() - hy);
    dx.max(0.0).hypot(dy.max(0.0)) + dx.max(dy).min(0.0)
}

/// How far the hand's footprint of a grasp at `yaw` stays outside every container's walls (m;
/// negative when it would come down on a wall); infinite without containers.
pub fn hand_wall_clearance(scene: &SceneGraph, object: &SceneObject, yaw: f64) -> f64 {
    let mut clearance = f64::INFINITY;
    for c in &scene.containers {
        let hx = c.inner_extents.x / 2.0 + WALL_M;
        let hy = c.inner_extents.y / 2.0 + WALL_M;
        for q in hand_footprint(object, yaw) {
            clearance = clearance.min(rectangle_distance(&c.pose_in_base, hx, hy, q));
        }
    }
    clearance
}

/// Yaws to fall back on when no preferred one keeps the hand off a container's walls: a box's
/// wider side, when the gripper can close across it.
fn fallback_yaw_candidates(object: &SceneObject) -> Vec<f64> {
    if object.shape != ShapeKind::Box {
        return Vec::new();
    }
    let e = object.extents;
    if e.x.max(e.y) > WIDEST_GRASP_M {
        return Vec::new();
    }
    let object_yaw = crate::rotation::yaw_of(&object.pose_in_base.rotation);
    let preferred = grasp_yaw_candidates(object);
    [object_yaw, object_yaw + std::f64::consts::FRAC_PI_2]
        .into_iter()
        .map(|g| NEUTRAL_GRASP_YAW + wrap_angle_half(g - NEUTRAL_GRASP_YAW))
        .filter(|g| preferred.iter().all(|p| (p - g).abs() > 1e-9))
        .collect()
}

/// How far the hand's footprint of a grasp of `object` at `yaw` stays beyond each keep-away
/// margin (m; negative when it comes closer than a margin); infinite without constraints. The
/// palm is what comes near a neighbour: it is 20 cm long along the closing axis, the object
/// itself at most 8 cm.
pub fn keep_away_clearance(
    scene: &SceneGraph,
    object: &SceneObject,
    yaw: f64,
    avoid: &[Constraint],
) -> f64 {
    let mut clearance = f64::INFINITY;
    for c in avoid {
        let Constraint::KeepAway {
            object: id,
            margin_m,
        } = c;
        let Some(other) = scene.object(id).filter(|other| other.id != object.id) else {
            continue;
        };
        let (hx, hy) = (other.extents.x / 2.0, other.extents.y / 2.0);
        for q in hand_footprint(object, yaw) {
            let d = rectangle_distance(&other.pose_in_base, hx, hy, q);
            clearance = clearance.min(d - margin_m);
        }
    }
    clearance
}

/// [`grasp_yaw`] for a plan with keep-away constraints: among the yaws whose hand keeps every
/// margin ([`keep_away_clearance`]) the usual choice; when none does, the yaw that comes
/// least close (clear of container walls if any is). Without constraints, [`grasp_yaw`].
pub fn grasp_yaw_avoiding(
    scene: &SceneGraph,
    object: &str,
    min_clearance_m: f64,
    avoid: &[Constraint],
) -> Option<f64> {
    let o = scene.object(object)?;
    if avoid.is_empty() {
        return choose_yaw(scene, o, min_clearance_m, |_| true);
    }
    let keep = |y: f64| keep_away_clearance(scene, o, y, avoid);
    choose_yaw(scene, o, min_clearance_m, |y| keep(y) >= 0.0).or_else(|| {
        let all: Vec<f64> = grasp_yaw_candidates(o)
            .into_iter()
            .chain(fallback_yaw_candidates(o))
            .collect();
        let walls_clear =
            |y: &&f64| hand_wall_clearance(scene, o, **y) >= MIN_HAND_WALL_CLEARANCE_M;
        let best = |ys: Vec<&f64>| {
            ys.into_iter()
                .copied()
                .max_by(|a, b| keep(*a).total_cmp(&keep(*b)))
        };
        best(all.iter().filter(walls_clear).collect()).or_else(|| best(all.iter().collect()))
    })
}

/// The grasp yaw for `object`. In order: the most preferred candidate whose hand clears every
/// container's walls and whose finger pads clear every other object by `min_clearance_m`; else
/// the preferred one with the most finger clearance among those clear of walls; else a
/// fallback (a box's wider side) clear of walls; else the yaw with the most wall clearance.
/// Where no container is near, this is the choice by finger clearance alone. `None` when the
/// scene has no such object.
pub fn grasp_yaw(scene: &SceneGraph, object: &str, min_clearance_m: f64) -> Option<f64> {
    choose_yaw(scene, scene.object(object)?, min_clearance_m, |_| true)
}

/// [`grasp_yaw`]'s choice among the candidates that `allowed` lets through; `None` when it
/// lets none through.
fn choose_yaw(
    scene: &SceneGraph,
    o: &SceneObject,
    min_clearance_m: f64,
    allowed: impl Fn(f64) -> bool,
) -> Option<f64> {
    let score = |ys: Vec<f64>| -> Vec<(f64, f64, f64)> {
        ys.into_iter()
            .filter(|y| allowed(*y))
            .map(|y| {
                (
                    y,
                    finger_clearance(scene, o, y),
                    hand_wall_clearance(scene, o, y),
                )
            })
            .collect()
    };
    let preferred = score(grasp_yaw_candidates(o));
    let fallback = score(fallback_yaw_candidates(o));
    let clear = |c: &&(f64, f64, f64)| c.2 >= MIN_HAND_WALL_CLEARANCE_M;
    let most_fingers = |a: &&(f64, f64, f64), b: &&(f64, f64, f64)| a.1.total_cmp(&b.1);
    preferred
        .iter()
        .filter(clear)
        .find(|(_, f, _)| *f >= min_clearance_m)
        .or_else(|| preferred.iter().filter(clear).max_by(most_fingers))
        .or_else(|| fallback.iter().filter(clear).max_by(most_fingers))
        .or_else(|| {
            preferred
                .iter()
                .chain(&fallback)
                .max_by(|a, b| a.2.total_cmp(&b.2))
        })
        .map(|(y, _, _)| *y)
}

/// How far a grasp's hand must stay from container walls (m).
pub const MIN_HAND_WALL_CLEARANCE_M: f64 = 0.005;

/// The finger clearance grasps ask for by default (m).
pub const DEFAULT_MIN_FINGER_CLEARANCE_M: f64 = 0.05;

/// How far inside the container's inner walls a dropped object's footprint stays (m).
const DROP_WALL_MARGIN_M: f64 = 0.015;

/// Where to drop `held` into `into` (base frame, on the container's floor): of a 3 x 2 grid of
/// spots, the one farthest from the objects already inside; the first spot when it is empty.
/// Spots are pulled in so the held object's footprint stays clear of the walls (a large object
/// dropped at the grid's edge lands on the rim). `None` when the scene has no such container.
pub fn place_spot(scene: &SceneGraph, held: &str, into: &str) -> Option<Point3<f64>> {
    let bin = scene.container(into)?;
    let radius = scene.object(held).map_or(0.0, |o| match o.shape {
        ShapeKind::Box => 0.5 * o.extents.x.hypot(o.extents.y),
        ShapeKind::Cylinder | ShapeKind::Cup => 0.5 * o.extents.x,
    });
    let inside: Vec<Vector3<f64>> = scene
        .objects
        .iter()
        .filter(|o| o.id != held)
        .map(|o| o.pose_in_base.translation.vector)
        .filter(|p| bin.contains(&Point3::from(*p), 0.0, 0.1))
        .collect();
    let (hx, hy) = (bin.inner_extents.x / 2.0, bin.inner_extents.y / 2.0);
    let room = |h: f64| (h - radius - DROP_WALL_MARGIN_M).max(0.0);
    let mut best = (f64::NEG_INFINITY, bin.pose_in_base * Point3::origin());
    for fx in [-0.6, 0.0, 0.6] {
        for fy in [-0.5, 0.5] {
            let local = Point3::new(
                (fx * hx).clamp(-room(hx), room(hx)),
                (fy * hy).clamp(-room(hy), room(hy)),
                0.0,
            );
            let p = bin.pose_in_base * local;
            let clearance = inside
                .iter()
                .map(|o| (o.xy() - p.coords.xy()).norm())
                .fold(f64::INFINITY, f64::min);
            // Strictly better only: ties keep the earlier spot, so the choice is deterministic.
            if clearance > best.0 + 1e-9 {
                best = (clearance, p);
            }
        }
    }
    Some(best.1)
}

/// Wraps an angle into (-pi/2, pi/2]: the two finger orders of a parallel gripper are the same.
pub fn wrap_angle_half(a: f64) -> f64 {
    let a = wrap_angle(a);
    if a > std::f64::consts::FRAC_PI_2 {
        a - std::f64::consts::PI
    } else if a <= -std::f64::consts::FRAC_PI_2 {
        a + std::f64::consts::PI
    } else {
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Container;
    use nalgebra::{Isometry3, Translation3, UnitQuaternion};

    fn object(id: &str, shape: ShapeKind, xy: (f64, f64), yaw: f64, e: [f64; 3]) -> SceneObject {
        SceneObject {
            id: id.into(),
            class: id.into(),
            color: "red".into(),
            shape,
            pose_in_base: Isometry3::from_parts(
                Translation3::new(xy.0, xy.1, 0.025),
                UnitQuaternion::from_euler_angles(0.0, 0.0, yaw),
            ),
            extents: Vector3::from(e),
        }
    }

    fn scene(objects: Vec<SceneObject>) -> SceneGraph {
        SceneGraph {
            stamp: 0.0,
            objects,
            containers: vec![Container {
                id: "bin".into(),
                class: "bin".into(),
                pose_in_base: Isometry3::translation(0.35, -0.45, 0.0),
                inner_extents: Vector3::new(0.28, 0.22, 0.1),
            }],
            table_height_m: 0.0,
        }
    }

    #[test]
    fn boxes_close_across_the_narrow_side_within_a_quarter_turn_of_neutral() {
        // A 4 x 6 cm box yawed by 2.8 rad: across its x side is yaw 2.8 + pi/2, which is
        // 1.23 rad from neutral after the half turn of symmetry.
        let b = object("b", ShapeKind::Box, (0.5, 0.0), 2.8, [0.04, 0.06, 0.05]);
        let c = grasp_yaw_candidates(&b);
        assert_eq!(c.len(), 1);
        assert!((c[0] - wrap_angle_half(2.8 + std::f64::consts::FRAC_PI_2)).abs() < 1e-12);
        assert!(c[0].abs() <= std::f64::consts::FRAC_PI_2);
        // A cube has two, nearest neutral first, both within a quarter turn.
        let cube = object("c", ShapeKind::Box, (0.5, 0.0), 1.0, [0.05, 0.05, 0.05]);
        let c = grasp_yaw_candidates(&cube);
        assert_eq!(c.len(), 2);
        assert!(c[0].abs() <= c[1].abs());
        assert!((c[0] - (1.0 - std::f64::consts::FRAC_PI_2)).abs() < 1e-12);
        // Round objects: neutral first.
        let can = object(
            "n",
            ShapeKind::Cylinder,
            (0.5, 0.0),
            2.0,
            [0.05, 0.05, 0.06],
        );
        assert_eq!(grasp_yaw_candidates(&can)[0], NEUTRAL_GRASP_YAW);
    }

    #[test]
    fn a_neighbour_in_the_way_turns_the_grasp() {
        let can = object(
            "n",
            ShapeKind::Cylinder,
            (0.5, 0.0),
            0.0,
            [0.05, 0.05, 0.06],
        );
        let alone = scene(vec![can.clone()]);
        let min = DEFAULT_MIN_FINGER_CLEARANCE_M;
        assert_eq!(grasp_yaw(&alone, "n", min), Some(NEUTRAL_GRASP_YAW));
        // At yaw 0 the fingers close along base y: a cube 9 cm to the side crowds one of them.
        let cube = object("c", ShapeKind::Box, (0.5, 0.09), 0.0, [0.05, 0.05, 0.05]);
        let crowded = scene(vec![can.clone(), cube]);
        assert!(finger_clearance(&crowded, &can, NEUTRAL_GRASP_YAW) < min);
        let y = grasp_yaw(&crowded, "n", min).unwrap();
        assert_ne!(y, NEUTRAL_GRASP_YAW);
        assert!(finger_clearance(&crowded, &can, y) >= min);
        assert_eq!(grasp_yaw(&crowded, "missing", min), None);
    }

    #[test]
    fn a_bin_wall_beside_the_object_turns_the_hand_along_it() {
        let min = DEFAULT_MIN_FINGER_CLEARANCE_M;
        // The bin (outer 0.30 x 0.24 m) at (0.35, -0.45): its wall runs along x at y = -0.33.
        // A can 5 cm from that wall: at neutral yaw the hand (closing along base y, 10 cm each
        // way) would come down on the wall; the grasp turns until it clears.
        let can = object(
            "n",
            ShapeKind::Cylinder,
            (0.35, -0.28),
            0.0,
            [0.05, 0.05, 0.06],
        );
        let s = scene(vec![can.clone()]);
        assert!(hand_wall_clearance(&s, &can, NEUTRAL_GRASP_YAW) < 0.0);
        let y = grasp_yaw(&s, "n", min).unwrap();
        assert!(
            hand_wall_clearance(&s, &can, y) >= MIN_HAND_WALL_CLEARANCE_M,
            "yaw {y}"
        );
        // A 4 x 6 cm box there, narrow side across y: its wide side (6 cm) turns the hand
        // along the wall instead.
        let b = object("b", ShapeKind::Box, (0.35, -0.28), 0.0, [0.06, 0.04, 0.05]);
        let s = scene(vec![b.clone()]);
        let preferred = grasp_yaw_candidates(&b);
        assert!(preferred
            .iter()
            .all(|y| hand_wall_clearance(&s, &b, *y) < 0.0));
        let y = grasp_yaw(&s, "b", min).unwrap();
        assert!(
            hand_wall_clearance(&s, &b, y) >= MIN_HAND_WALL_CLEARANCE_M,
            "yaw {y}"
        );
        // Far from the bin nothing changes: the preferred yaw.
        let far = object("f", ShapeKind::Box, (0.55, 0.1), 0.0, [0.06, 0.04, 0.05]);
        let s = scene(vec![far.clone()]);
        assert_eq!(grasp_yaw(&s, "f", min), Some(grasp_yaw_candidates(&far)[0]));
    }

    #[test]
    fn place_spots_spread_over_the_bin() {
        let empty = scene(vec![object(
            "h",
            ShapeKind::Box,
            (0.5, 0.0),
            0.0,
            [0.05; 3],
        )]);
        let first = place_spot(&empty, "h", "bin").unwrap();
        let bin = empty.container("bin").unwrap();
        assert!(bin.contains(&first, 0.0, 0.1));
        // With something at the first spot, the next goes elsewhere, and far from it.
        let mut full = empty.clone();
        full.objects.push(object(
            "in",
            ShapeKind::Box,
            (first.x, first.y),
            0.0,
            [0.05; 3],
        ));
        let second = place_spot(&full, "h", "bin").unwrap();
        assert!((second - first).norm() > 0.1);
        // The held object itself never counts as in the way.
        let third = place_spot(&full, "in", "bin").unwrap();
        assert_eq!(third, first);
        assert!(place_spot(&full, "h", "crate").is_none());
    }

    /// A keep-away neighbour along the neutral grasp's closing axis: the grasp turns the palm
    /// across, clear of the margin; with no way to clear it, the yaw that comes least close.
    #[test]
    fn grasps_turn_the_palm_away_from_keep_away_objects() {
        let can = object(
            "can",
            ShapeKind::Cylinder,
            (0.5, 0.0),
            0.0,
            [0.06, 0.06, 0.1],
        );
        let cup = object("cup", ShapeKind::Cup, (0.5, 0.13), 0.0, [0.08, 0.08, 0.07]);
        let s = scene(vec![can.clone(), cup.clone()]);
        let min = DEFAULT_MIN_FINGER_CLEARANCE_M;
        let plain = grasp_yaw(&s, "can", min).unwrap();
        let avoid = [Constraint::keep_away("cup")];
        assert!(
            keep_away_clearance(&s, &can, plain, &avoid) < 0.0,
            "{plain}"
        );
        assert_eq!(grasp_yaw_avoiding(&s, "can", min, &[]), Some(plain));
        let turned = grasp_yaw_avoiding(&s, "can", min, &avoid).unwrap();
        assert!(
            keep_away_clearance(&s, &can, turned, &avoid) >= 0.0,
            "{turned}"
        );
        assert!((turned - plain).abs() > 0.5, "{plain} -> {turned}");
        // Only the constrained object counts; the object itself never does.
        assert_eq!(keep_away_clearance(&s, &can, plain, &[]), f64::INFINITY);
        let own = [Constraint::keep_away("can")];
        assert_eq!(keep_away_clearance(&s, &can, plain, &own), f64::INFINITY);
        // Too close for any yaw: still a grasp, the one with the most room.
        let near = object("cup", ShapeKind::Cup, (0.5, 0.07), 0.0, [0.08, 0.08, 0.07]);
        let s = scene(vec![can.clone(), near.clone()]);
        let best = grasp_yaw_avoiding(&s, "can", min, &avoid).unwrap();
        let room = keep_away_clearance(&s, &can, best, &avoid);
        assert!(room < 0.0);
        for y in grasp_yaw_candidates(&can) {
            assert!(keep_away_clearance(&s, &can, y, &avoid) <= room + 1e-12);
        }
    }
}
