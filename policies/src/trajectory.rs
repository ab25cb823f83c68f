//! Time-parametrized end-effector keyframe trajectories with smooth (quintic) blending.

use nalgebra::Isometry3;

#[derive(Clone, Copy, Debug)]
pub struct Keyframe {
    /// Absolute time (robot clock) at which the pose is reached.
    pub t: f64,
    pub pose: Isometry3<f64>,
    pub gripper_width_m: f64,
}

#[derive(Clone, Debug, Default)]
pub struct Trajectory {
    pub keys: Vec<Keyframe>,
}

/// Quintic time scaling: zero velocity and acceleration at both ends of a segment.
fn smooth(tau: f64) -> f64 {
    let t = tau.clamp(0.0, 1.0);
    t * t * t * (10.0 - 15.0 * t + 6.0 * t * t)
}

impl Trajectory {
    pub fn start(t: f64, pose: Isometry3<f64>, gripper_width_m: f64) -> Self {
        Self {
            keys: vec![Keyframe {
                t,
                pose,
                gripper_width_m,
            }],
        }
    }

    /// Appends a keyframe reached `duration` seconds after the previous one.
    pub fn then(&mut self, duration: f64, pose: Isometry3<f64>, gripper_width_m: f64) -> &mut Self {
        let t = self.end() + duration.max(1e-3);
        self.keys.push(Keyframe {
            t,
            pose,
            gripper_width_m,
        });
        self
    }

    /// Holds the last pose for `duration` with a new gripper command.
    pub fn hold(&mut self, duration: f64, gripper_width_m: f64) -> &mut Self {
        let pose = self.last().pose;
        self.then(duration, pose, gripper_width_m)
    }

    pub fn last(&self) -> &Keyframe {
        self.keys
            .last()
            .expect("a trajectory always has its start keyframe")
    }

    pub fn end(&self) -> f64 {
        self.last().t
    }

    /// Pose and gripper command at time `t` (clamped to the trajectory's span). The gripper
    /// takes the command of the segment being travelled.
    pub fn sample(&self, t: f64) -> (Isometry3<f64>, f64) {
        let first = &self.keys[0];
        if t <= first.t {
            return (first.pose, first.gripper_width_m);
        }
        for w in self.keys.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            if t <= b.t {
                let s = smooth((t - a.t) / (b.t - a.t));
                let pos = a
                    .pose
                    .translation
                    .vector
                    .lerp(&b.pose.translation.vector, s);
                let rot = a
                    .pose
                    .rotation
                    .try_slerp(&b.pose.rotation, s, 1e-9)
                    .unwrap_or(b.pose.rotation);
                return (Isometry3::from_parts(pos.into(), rot), b.gripper_width_m);
            }
        }
        let l = self.last();
        (l.pose, l.gripper_width_m)
    }
}
