//! What a scene holds apart from poses, as published on the scene topic.

use embody_agent::perception::ObjectInfo;
use embody_agent::ros_msgs::{
    BoundingBox3D, Covariance36, Detection3D, Detection3DArrayMsg, Header, ObjectHypothesis,
    ObjectHypothesisWithPose, Pose, PoseWithCovariance, Vector3Msg,
};
use embody_agent::types::{Container, ObjectPose, ShapeKind};
use serde::{Deserialize, Serialize};

/// Objects (id, class, colour, size) and containers of the work cell. Poses come separately,
/// at a rate, on the objects topic.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SceneInfo {
    pub objects: Vec<ObjectInfo>,
    pub containers: Vec<Container>,
    pub table_height_m: f64,
    /// Which table this is when the publisher sets new ones (`embody sim --ros
    /// --new-scene-when-done` counts 0, 1, ...): deploy waits for a new number before its next
    /// run and names the table its "finished" status is about. A perception node may leave it
    /// out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub episode: Option<u64>,
}

/// What a cell keeps fixed when objects come from a detector: its containers as the cell file
/// places them (a detection with a container's id moves it) and the table's height.
#[derive(Clone, Debug)]
pub struct CellGeometry {
    pub containers: Vec<Container>,
    pub table_height_m: f64,
}

/// Colour words a detection's class or id may start with ("red cube", `red_cube_2`): vision_msgs
/// has no colour field, and the planner resolves "the red one" by colour.
const COLOURS: &[&str] = &[
    "red", "green", "blue", "yellow", "orange", "purple", "white", "black", "gray", "grey",
    "brown", "pink",
];

/// The grasp the gripper uses for a class: across the narrower side for boxes, around for
/// cylinders and cups. An unknown class is grasped as a box of its bounding box.
fn shape_of(class: &str) -> ShapeKind {
    match class {
        "can" | "cylinder" | "bottle" | "tin" => ShapeKind::Cylinder,
        "cup" | "mug" | "glass" => ShapeKind::Cup,
        _ => ShapeKind::Box,
    }
}

/// The scene and object poses of a vision_msgs/Detection3DArray, every pose in `base_frame`
/// (no TF lookup: a detector publishes in the robot's base frame, or a static transform does
/// it). Refused whole, with the reason, when a detection has no id or no hypothesis, two share
/// an id, a pose is not finite or not a unit rotation, a size is not positive, or a frame is
/// another one.
pub fn scene_from_detections(
    msg: &Detection3DArrayMsg,
    base_frame: &str,
    cell: &CellGeometry,
) -> Result<(SceneInfo, Vec<ObjectPose>), String> {
    let base = base_frame.trim_start_matches('/');
    let frame_ok = |f: &str| f.is_empty() || f.trim_start_matches('/') == base;
    if !frame_ok(&msg.header.frame_id) {
        return Err(format!(
            "detections are in frame '{}', embody needs them in the base frame '{base_frame}'",
            msg.header.frame_id
        ));
    }
    let mut containers = cell.containers.clone();
    let mut objects = Vec::new();
    let mut poses = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (k, d) in msg.detections.iter().enumerate() {
        let what = if d.id.is_empty() {
            return Err(format!(
                "detection {k} has no id (embody follows objects by id)"
            ));
        } else {
            format!("detection '{}'", d.id)
        };
        if !seen.insert(d.id.as_str()) {
            return Err(format!("{what} appears twice"));
        }
        if !frame_ok(&d.header.frame_id) {
            return Err(format!(
                "{what} is in frame '{}', not the base frame '{base_frame}'",
                d.header.frame_id
            ));
        }
        let best = d
            .results
            .iter()
            .filter(|r| r.hypothesis.score.is_finite() && !r.hypothesis.class_id.is_empty())
            .max_by(|a, b| a.hypothesis.score.total_cmp(&b.hypothesis.score))
            .ok_or_else(|| format!("{what} has no class hypothesis"))?;
        let pose =
            d.bbox.center.to_isometry().ok_or_else(|| {
                format!("{what}: a pose that is not finite or not a unit rotation")
            })?;
        let s = d.bbox.size;
        let size = nalgebra::Vector3::new(s.x, s.y, s.z);
        if size
            .iter()
            .any(|v| !(v.is_finite() && *v > 0.0 && *v < 10.0))
        {
            return Err(format!(
                "{what}: size {size:?} is not positive (and under 10 m)"
            ));
        }
        if let Some(c) = containers.iter_mut().find(|c| c.id == d.id) {
            // A container moved: its place and yaw from the detection, its floor height from
            // the cell.
            let z = c.pose_in_base.translation.z;
            let yaw = embody_agent::rotation::yaw_of(&pose.rotation);
            c.pose_in_base = nalgebra::Isometry3::new(
                nalgebra::Vector3::new(pose.translation.x, pose.translation.y, z),
                nalgebra::Vector3::z() * yaw,
            );
            continue;
        }
        let words: Vec<&str> = best.hypothesis.class_id.split_whitespace().collect();
        let class = words.last().copied().unwrap_or_default().to_lowercase();
        let colour = words
            .first()
            .filter(|_| words.len() > 1)
            .map(|w| w.to_lowercase())
            .or_else(|| {
                let first = d.id.split(['_', '-', ' ']).next().unwrap_or_default();
                COLOURS
                    .contains(&first.to_lowercase().as_str())
                    .then(|| first.to_lowercase())
            })
            .unwrap_or_default();
        objects.push(ObjectInfo {
            id: d.id.clone(),
            shape: shape_of(&class),
            class,
            color: colour,
            extents: size,
        });
        poses.push(ObjectPose {
            id: d.id.clone(),
            pose_in_base: pose,
        });
    }
    Ok((
        SceneInfo {
            objects,
            containers,
            table_height_m: cell.table_height_m,
            episode: None,
        },
        poses,
    ))
}

/// A Detection3DArray of `objects` (their poses in `poses`) and `containers`, as a perception
/// node would publish it: what `embody sim --ros` publishes for `deploy --scene-input
/// detections`.
pub fn detections_of(
    header: Header,
    objects: &[ObjectInfo],
    poses: &[ObjectPose],
    containers: &[Container],
) -> Detection3DArrayMsg {
    let one =
        |id: &str, class: &str, pose: &nalgebra::Isometry3<f64>, size: &nalgebra::Vector3<f64>| {
            let center = Pose::from_isometry(pose);
            Detection3D {
                header: header.clone(),
                results: vec![ObjectHypothesisWithPose {
                    hypothesis: ObjectHypothesis {
                        class_id: class.to_string(),
                        score: 1.0,
                    },
                    pose: PoseWithCovariance {
                        pose: center,
                        covariance: Covariance36::default(),
                    },
                }],
                bbox: BoundingBox3D {
                    center,
                    size: Vector3Msg {
                        x: size.x,
                        y: size.y,
                        z: size.z,
                    },
                },
                id: id.to_string(),
            }
        };
    let mut detections: Vec<Detection3D> = objects
        .iter()
        .filter_map(|o| {
            let p = poses.iter().find(|p| p.id == o.id)?;
            Some(one(&o.id, &o.class, &p.pose_in_base, &o.extents))
        })
        .collect();
    detections.extend(
        containers
            .iter()
            .map(|c| one(&c.id, &c.class, &c.pose_in_base, &c.inner_extents)),
    );
    Detection3DArrayMsg { header, detections }
}

#[cfg(test)]
mod detection_tests {
    use super::*;
    use nalgebra::{Isometry3, Vector3};

    fn cell() -> CellGeometry {
        CellGeometry {
            containers: vec![Container {
                id: "bin".into(),
                class: "bin".into(),
                pose_in_base: Isometry3::translation(0.35, -0.45, 0.0),
                inner_extents: Vector3::new(0.28, 0.22, 0.1),
            }],
            table_height_m: 0.0,
        }
    }

    fn header(frame: &str) -> Header {
        Header {
            frame_id: frame.into(),
            ..Default::default()
        }
    }

    fn table() -> (Vec<ObjectInfo>, Vec<ObjectPose>) {
        let o = |id: &str, class: &str, color: &str, shape| ObjectInfo {
            id: id.into(),
            class: class.into(),
            color: color.into(),
            shape,
            extents: Vector3::new(0.05, 0.06, 0.07),
        };
        let objects = vec![
            o("red_cube", "cube", "red", ShapeKind::Box),
            o("green_can", "can", "green", ShapeKind::Cylinder),
            o("cup_7", "cup", "", ShapeKind::Cup),
        ];
        let poses = objects
            .iter()
            .enumerate()
            .map(|(k, o)| ObjectPose {
                id: o.id.clone(),
                pose_in_base: Isometry3::new(
                    Vector3::new(0.4 + 0.05 * k as f64, 0.1, 0.03),
                    Vector3::z() * 0.3,
                ),
            })
            .collect();
        (objects, poses)
    }

    /// What the simulator publishes reads back as the scene it came from: ids, classes,
    /// colours (from the ids), shapes (from the classes), sizes and poses; a moved bin moves.
    #[test]
    fn detections_read_back_as_the_scene() {
        let (objects, poses) = table();
        let mut bin = cell().containers;
        bin[0].pose_in_base = Isometry3::new(Vector3::new(0.3, -0.5, 0.0), Vector3::z() * 0.2);
        let msg = detections_of(header("base_link"), &objects, &poses, &bin);
        let (scene, got) = scene_from_detections(&msg, "base_link", &cell()).unwrap();
        assert_eq!(scene.objects, objects);
        for (a, b) in got.iter().zip(&poses) {
            assert_eq!(a.id, b.id);
            assert!(
                (a.pose_in_base.translation.vector - b.pose_in_base.translation.vector).norm()
                    < 1e-12
            );
            assert!(a.pose_in_base.rotation.angle_to(&b.pose_in_base.rotation) < 1e-9);
        }
        let c = &scene.containers[0];
        assert!((c.pose_in_base.translation.vector - Vector3::new(0.3, -0.5, 0.0)).norm() < 1e-12);
        assert!((embody_agent::rotation::yaw_of(&c.pose_in_base.rotation) - 0.2).abs() < 1e-9);
        // A two-word class carries the colour.
        let mut m = msg.clone();
        m.detections[2].results[0].hypothesis.class_id = "white cup".into();
        m.header.frame_id = "/base_link".into();
        let (scene, _) = scene_from_detections(&m, "base_link", &cell()).unwrap();
        assert_eq!(
            (
                scene.objects[2].color.as_str(),
                scene.objects[2].class.as_str()
            ),
            ("white", "cup")
        );
    }

    #[test]
    fn broken_detections_are_refused_with_the_reason() {
        let (objects, poses) = table();
        let good = detections_of(header("base_link"), &objects, &poses, &[]);
        let refused = |change: &dyn Fn(&mut Detection3DArrayMsg), want: &str| {
            let mut m = good.clone();
            change(&mut m);
            let e = scene_from_detections(&m, "base_link", &cell()).unwrap_err();
            assert!(e.contains(want), "{e}");
        };
        refused(&|m| m.header.frame_id = "camera".into(), "frame 'camera'");
        refused(&|m| m.detections[1].id.clear(), "detection 1 has no id");
        refused(
            &|m| m.detections[1].id = "red_cube".into(),
            "'red_cube' appears twice",
        );
        refused(&|m| m.detections[0].results.clear(), "no class hypothesis");
        refused(
            &|m| m.detections[0].bbox.center.position.x = f64::NAN,
            "not finite",
        );
        refused(
            &|m| m.detections[0].bbox.center.orientation.w = 3.0,
            "unit rotation",
        );
        refused(&|m| m.detections[2].bbox.size.z = 0.0, "is not positive");
        refused(
            &|m| m.detections[2].header.frame_id = "map".into(),
            "frame 'map'",
        );
    }
}
