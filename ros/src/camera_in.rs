//! A camera on the robot as deploy receives it: depth (32FC1), instance segmentation (mono16,
//! from a segmentation node) and CameraInfo, assembled into the `CameraFrame` that camera
//! perception reads. The camera's pose in the base frame is the cell's calibration.

use std::sync::Arc;

use embody_agent::ros_msgs::{CameraInfoMsg, ImageMsg, Time};
use embody_agent::types::CameraFrame;
use nalgebra::Isometry3;
use ros2_client::Subscription;

use crate::transport::{default_qos, drain, newest_accepted, Dropped, RosNode};
use crate::RosError;

/// The newest usable image of one stream: its stamp, size and pixels.
struct Latest<T> {
    stamp: Time,
    width: u32,
    height: u32,
    pixels: Vec<T>,
}

pub(crate) struct CameraIn {
    camera_in_base: Isometry3<f64>,
    depth_topic: String,
    segmentation_topic: String,
    info_topic: String,
    depth: Subscription<ImageMsg>,
    segmentation: Subscription<ImageMsg>,
    info: Subscription<CameraInfoMsg>,
    intrinsics: Option<[f64; 4]>,
    latest_depth: Option<Latest<f32>>,
    latest_segmentation: Option<Latest<u32>>,
    /// The newest depth and segmentation of the same instant, with the intrinsics.
    pub frame: Option<Arc<CameraFrame>>,
}

impl CameraIn {
    /// Subscribes to `<ns>/depth/image_raw`, `<ns>/segmentation` and `<ns>/color/camera_info`.
    pub fn new(
        node: &mut RosNode,
        namespace: &str,
        camera_in_base: Isometry3<f64>,
    ) -> Result<Self, RosError> {
        let ns = namespace.trim_end_matches('/');
        let q = default_qos();
        let (depth_topic, segmentation_topic, info_topic) = (
            format!("{ns}/depth/image_raw"),
            format!("{ns}/segmentation"),
            format!("{ns}/color/camera_info"),
        );
        Ok(Self {
            camera_in_base,
            depth: node.subscription(&depth_topic, &q)?,
            segmentation: node.subscription(&segmentation_topic, &q)?,
            info: node.subscription(&info_topic, &q)?,
            depth_topic,
            segmentation_topic,
            info_topic,
            intrinsics: None,
            latest_depth: None,
            latest_segmentation: None,
            frame: None,
        })
    }

    /// The topic deploy waits on while no frame has been assembled.
    pub fn waiting_for(&self) -> &str {
        if self.intrinsics.is_none() {
            &self.info_topic
        } else if self.latest_depth.is_none() {
            &self.depth_topic
        } else {
            &self.segmentation_topic
        }
    }

    /// Takes what has arrived; images that do not decode or do not fit their size are dropped
    /// and counted. A frame is made when a depth and a segmentation image share a stamp and a
    /// size and the intrinsics are known; `now` stamps it on the robot's clock.
    pub fn poll(&mut self, dropped: &mut Dropped, now: f64) {
        let infos = drain(&self.info, &self.info_topic, dropped);
        if let Some(k) = newest_accepted(infos, &self.info_topic, dropped, |m| {
            m.intrinsics()
                .ok_or("intrinsics that are not finite, or a focal length that is not positive")
        }) {
            self.intrinsics = Some(k);
        }
        let depths = drain(&self.depth, &self.depth_topic, dropped);
        if let Some(d) = newest_accepted(depths, &self.depth_topic, dropped, |m| {
            m.depth_m().map(|pixels| Latest {
                stamp: m.header.stamp,
                width: m.width,
                height: m.height,
                pixels,
            })
        }) {
            self.latest_depth = Some(d);
        }
        let segs = drain(&self.segmentation, &self.segmentation_topic, dropped);
        if let Some(s) = newest_accepted(segs, &self.segmentation_topic, dropped, |m| {
            m.instance_ids().map(|pixels| Latest {
                stamp: m.header.stamp,
                width: m.width,
                height: m.height,
                pixels,
            })
        }) {
            self.latest_segmentation = Some(s);
        }
        let (Some(d), Some(s), Some(k)) = (
            &self.latest_depth,
            &self.latest_segmentation,
            self.intrinsics,
        ) else {
            return;
        };
        if d.stamp != s.stamp || (d.width, d.height) != (s.width, s.height) {
            return;
        }
        // The pair is used once: the next frame waits for the next pair.
        let (d, s) = (
            self.latest_depth.take().expect("checked"),
            self.latest_segmentation.take().expect("checked"),
        );
        self.frame = Some(Arc::new(CameraFrame {
            stamp: now,
            width: d.width,
            height: d.height,
            rgb: Vec::new(),
            depth_m: d.pixels,
            segmentation: s.pixels,
            intrinsics: k,
            camera_in_base: self.camera_in_base,
        }));
    }
}
