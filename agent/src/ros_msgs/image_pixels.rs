//! Pixels in and out of sensor_msgs/Image: the segmentation image embody's simulator publishes
//! (mono16 instance ids), and the depth and segmentation images `deploy` reads back, checked
//! against their declared size, step and encoding before a pixel is used.

use super::messages::{CameraInfoMsg, Header, ImageMsg};

impl ImageMsg {
    /// The frame's instance segmentation as mono16 (little-endian): 0 background, objects
    /// 1..=N, then the simulator's container, table and robot ids (all under 65,536).
    pub fn segmentation(frame: &crate::types::CameraFrame, header: Header) -> Self {
        Self {
            header,
            height: frame.height,
            width: frame.width,
            encoding: "mono16".into(),
            is_bigendian: 0,
            step: frame.width * 2,
            data: frame
                .segmentation
                .iter()
                .flat_map(|id| ((*id).min(u16::MAX as u32) as u16).to_le_bytes())
                .collect(),
        }
    }

    /// Row-major values of a one-channel image of `bytes` per pixel in `encoding`, each read
    /// by `read` from its bytes in the image's byte order; rows may be padded (`step`).
    fn pixels<T>(
        &self,
        encoding: &str,
        bytes: usize,
        read: impl Fn([u8; 4], bool) -> T,
    ) -> Result<Vec<T>, String> {
        if self.encoding != encoding {
            return Err(format!(
                "encoding '{}', expected '{encoding}'",
                self.encoding
            ));
        }
        let (w, h, step) = (
            self.width as usize,
            self.height as usize,
            self.step as usize,
        );
        if w == 0 || h == 0 || w > 8192 || h > 8192 {
            return Err(format!("size {w} x {h} (each side must be 1..=8192)"));
        }
        if step < w * bytes || self.data.len() < step * (h - 1) + w * bytes {
            return Err(format!(
                "{} bytes with step {step} cannot hold {w} x {h} pixels of {bytes} bytes",
                self.data.len()
            ));
        }
        let big = self.is_bigendian != 0;
        let mut out = Vec::with_capacity(w * h);
        for row in 0..h {
            for col in 0..w {
                let at = row * step + col * bytes;
                let mut b = [0u8; 4];
                b[..bytes].copy_from_slice(&self.data[at..at + bytes]);
                out.push(read(b, big));
            }
        }
        Ok(out)
    }

    /// A 32FC1 depth image in metres (NaN where nothing was measured).
    pub fn depth_m(&self) -> Result<Vec<f32>, String> {
        self.pixels("32FC1", 4, |b, big| {
            if big {
                f32::from_be_bytes(b)
            } else {
                f32::from_le_bytes(b)
            }
        })
    }

    /// A mono16 image of instance ids.
    pub fn instance_ids(&self) -> Result<Vec<u32>, String> {
        self.pixels("mono16", 2, |b, big| {
            let v = [b[0], b[1]];
            (if big {
                u16::from_be_bytes(v)
            } else {
                u16::from_le_bytes(v)
            }) as u32
        })
    }
}

impl CameraInfoMsg {
    /// fx, fy, cx, cy from `k`, when they are finite and the focal lengths positive.
    pub fn intrinsics(&self) -> Option<[f64; 4]> {
        let i = [self.k[0], self.k[4], self.k[2], self.k[5]];
        (i.iter().all(|v| v.is_finite()) && i[0] > 0.0 && i[1] > 0.0).then_some(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::CameraFrame;

    fn frame() -> CameraFrame {
        CameraFrame {
            stamp: 0.0,
            width: 3,
            height: 2,
            rgb: vec![0; 18],
            depth_m: vec![0.5, f32::NAN, 1.25, 2.0, 0.75, 3.5],
            segmentation: vec![0, 1, 2, 100, 300, 5],
            intrinsics: [300.0, 310.0, 1.5, 1.0],
            camera_in_base: nalgebra::Isometry3::identity(),
        }
    }

    #[test]
    fn depth_and_segmentation_read_back() {
        let f = frame();
        let depth = ImageMsg::depth(&f, Header::default()).depth_m().unwrap();
        assert_eq!(depth[0], 0.5);
        assert!(depth[1].is_nan());
        assert_eq!(depth[5], 3.5);
        let ids = ImageMsg::segmentation(&f, Header::default());
        assert_eq!(ids.instance_ids().unwrap(), f.segmentation);
        assert_eq!(
            CameraInfoMsg::of(&f, Header::default()).intrinsics(),
            Some(f.intrinsics)
        );
    }

    #[test]
    fn padded_rows_and_big_endian_read_and_short_images_are_refused() {
        // Two rows of two mono16 pixels, big-endian, each row padded to 6 bytes.
        let img = ImageMsg {
            height: 2,
            width: 2,
            encoding: "mono16".into(),
            is_bigendian: 1,
            step: 6,
            data: vec![0, 1, 0, 2, 9, 9, 1, 0, 0, 3, 9, 9],
            ..Default::default()
        };
        assert_eq!(img.instance_ids().unwrap(), vec![1, 2, 256, 3]);
        let mut short = img.clone();
        short.data.truncate(9);
        assert!(short.instance_ids().unwrap_err().contains("cannot hold"));
        assert!(img.depth_m().unwrap_err().contains("expected '32FC1'"));
        let mut huge = img;
        huge.width = 100_000;
        assert!(huge.instance_ids().unwrap_err().contains("1..=8192"));
    }
}
