//! The arm as a kinematic chain read from its URDF, with forward kinematics, the geometric
//! Jacobian and a damped-least-squares IK that never leaves the joint limits.
//!
//! rapier's own multibody IK ignores joint limits, and the controller must run on real arms
//! too, so the chain lives here in f64, independent of any physics engine.

use std::path::Path;

use nalgebra::{DMatrix, DVector, Isometry3, Matrix6, Unit, UnitQuaternion, Vector3, Vector6};
use thiserror::Error;

use crate::rotation::rotation_error;
use crate::urdf::{chain, urdf_pose};
pub use crate::urdf::{check_joint_tree, ModelError};

/// Why an IK query failed.
#[derive(Debug, Error, PartialEq)]
pub enum IkError {
    #[error("IK did not converge: {position_error_m:.4} m / {rotation_error_rad:.4} rad left after {iterations} iterations")]
    NotConverged {
        position_error_m: f64,
        rotation_error_rad: f64,
        iterations: usize,
    },
    #[error("IK seed has {got} joints, the arm has {expected}")]
    SeedSize { got: usize, expected: usize },
}

/// One actuated revolute joint of the arm.
#[derive(Clone, Debug)]
pub struct JointSpec {
    pub name: String,
    /// Pose of the joint frame in the previous joint's frame at q = 0 (fixed joints folded in).
    pub origin: Isometry3<f64>,
    pub axis: Unit<Vector3<f64>>,
    pub lower_rad: f64,
    pub upper_rad: f64,
    pub max_velocity: f64,
    pub max_acceleration: f64,
    pub max_jerk: f64,
    pub max_effort: f64,
}

/// A parallel-jaw gripper: prismatic fingers, each moving 0..`max_finger_travel_m`.
#[derive(Clone, Debug)]
pub struct GripperSpec {
    pub finger_joints: Vec<String>,
    pub max_width_m: f64,
    pub max_effort_n: f64,
}

/// The serial chain from the base link to the tool centre point.
#[derive(Clone, Debug)]
pub struct ArmModel {
    pub base_link: String,
    pub tcp_link: String,
    pub joints: Vec<JointSpec>,
    /// Pose of the TCP in the last joint's frame (fixed joints folded in).
    pub tcp_in_last: Isometry3<f64>,
    pub gripper: Option<GripperSpec>,
}

impl ArmModel {
    /// Reads the chain `base_link` → `tcp_link` from a URDF file.
    pub fn from_urdf_file(
        path: &Path,
        base_link: &str,
        tcp_link: &str,
    ) -> Result<Self, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|source| ModelError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_urdf_str(&text, &path.display().to_string(), base_link, tcp_link)
    }

    /// Reads the chain from URDF text; `origin` names the text in errors.
    pub fn from_urdf_str(
        text: &str,
        origin: &str,
        base_link: &str,
        tcp_link: &str,
    ) -> Result<Self, ModelError> {
        let robot = urdf_rs::read_from_string(text).map_err(|e| ModelError::Parse {
            path: origin.to_string(),
            message: e.to_string(),
        })?;
        Self::from_urdf(&robot, origin, base_link, tcp_link)
    }

    pub fn from_urdf(
        robot: &urdf_rs::Robot,
        origin: &str,
        base_link: &str,
        tcp_link: &str,
    ) -> Result<Self, ModelError> {
        let invalid = |message: String| ModelError::Invalid {
            path: origin.to_string(),
            message,
        };
        if !robot.links.iter().any(|l| l.name == base_link) {
            return Err(invalid(format!("no link named '{base_link}'")));
        }
        check_joint_tree(robot, origin)?;
        if !robot.links.iter().any(|l| l.name == tcp_link) {
            return Err(invalid(format!("no link named '{tcp_link}'")));
        }
        let chain = chain(robot, base_link, tcp_link)
            .map_err(|link| invalid(format!("link '{link}' is not connected to '{base_link}'")))?;

        let mut joints = Vec::new();
        let mut pending = Isometry3::identity();
        for j in chain {
            let o = pending * urdf_pose(&j.origin);
            match &j.joint_type {
                urdf_rs::JointType::Fixed => pending = o,
                urdf_rs::JointType::Revolute => {
                    let axis = Vector3::from(j.axis.xyz.0);
                    if axis.norm() < 1e-9 {
                        return Err(invalid(format!("joint '{}' has a zero axis", j.name)));
                    }
                    let l = &j.limit;
                    if !(l.lower.is_finite() && l.upper.is_finite() && l.lower < l.upper) {
                        return Err(invalid(format!(
                            "joint '{}' needs finite limits with lower < upper (got {} .. {})",
                            j.name, l.lower, l.upper
                        )));
                    }
                    if l.velocity.is_nan() || l.velocity <= 0.0 {
                        return Err(invalid(format!("joint '{}' needs a velocity limit > 0", j.name)));
                    }
                    joints.push(JointSpec {
                        name: j.name.clone(),
                        origin: o,
                        axis: Unit::new_normalize(axis),
                        lower_rad: l.lower,
                        upper_rad: l.upper,
                        max_velocity: l.velocity,
                        max_acceleration: l.acceleration,
                        max_jerk: l.jerk,
                        max_effort: l.effort,
                    });
                    pending = Isometry3::identity();
                }
                other => {
                    return Err(invalid(format!(
                        "joint '{}' on the arm chain is {:?}; only revolute and fixed joints are supported",
                        j.name, other
                    )))
                }
            }
        }
        if joints.is_empty() {
            return Err(invalid(format!(
                "no revolute joints between '{base_link}' and '{tcp_link}'"
            )));
        }
        let gripper = gripper_from_urdf(robot);
        Ok(Self {
            base_link: base_link.to_string(),
            tcp_link: tcp_link.to_string(),
            joints,
            tcp_in_last: pending,
            gripper,
        })
    }

    pub fn dof(&self) -> usize {
        self.joints.len()
    }

    pub fn joint_names(&self) -> Vec<String> {
        self.joints.iter().map(|j| j.name.clone()).collect()
    }

    /// Clamps `q` into the joint limits, in place.
    pub fn clamp(&self, q: &mut [f64]) {
        for (qi, j) in q.iter_mut().zip(&self.joints) {
            *qi = qi.clamp(j.lower_rad, j.upper_rad);
        }
    }

    pub fn within_limits(&self, q: &[f64], tolerance: f64) -> bool {
        q.iter()
            .zip(&self.joints)
            .all(|(qi, j)| *qi >= j.lower_rad - tolerance && *qi <= j.upper_rad + tolerance)
    }

    /// Pose of the TCP in the base frame.
    pub fn forward(&self, q: &[f64]) -> Isometry3<f64> {
        let mut t = Isometry3::identity();
        for (j, qi) in self.joints.iter().zip(q) {
            t = t * j.origin * UnitQuaternion::from_axis_angle(&j.axis, *qi);
        }
        t * self.tcp_in_last
    }

    /// TCP pose and the geometric Jacobian (rows: linear, then angular velocity, base frame).
    pub fn jacobian(&self, q: &[f64]) -> (Isometry3<f64>, DMatrix<f64>) {
        let n = self.dof();
        let mut frames = Vec::with_capacity(n);
        let mut t = Isometry3::identity();
        for (j, qi) in self.joints.iter().zip(q) {
            t *= j.origin;
            frames.push((t.translation.vector, t.rotation * j.axis.into_inner()));
            t *= UnitQuaternion::from_axis_angle(&j.axis, *qi);
        }
        let tcp = t * self.tcp_in_last;
        let p = tcp.translation.vector;
        let mut jac = DMatrix::zeros(6, n);
        for (i, (origin, z)) in frames.iter().enumerate() {
            let v = z.cross(&(p - origin));
            jac.fixed_view_mut::<3, 1>(0, i).copy_from(&v);
            jac.fixed_view_mut::<3, 1>(3, i).copy_from(z);
        }
        (tcp, jac)
    }

    /// Damped-least-squares IK from `seed`, staying inside the joint limits.
    ///
    /// Joints that sit at a limit and are pushed further are frozen and the step is solved again
    /// without them, so the solution is the best one inside the limits rather than a clamped
    /// copy of an infeasible one. `rest` (if given) pulls redundant freedom towards a posture.
    pub fn inverse(
        &self,
        target: &Isometry3<f64>,
        seed: &[f64],
        rest: Option<&[f64]>,
        cfg: &IkConfig,
    ) -> Result<IkSolution, IkError> {
        let s = self.inverse_best_effort(target, seed, rest, cfg)?;
        if s.converged {
            Ok(s)
        } else {
            Err(IkError::NotConverged {
                position_error_m: s.position_error_m,
                rotation_error_rad: s.rotation_error_rad,
                iterations: s.iterations,
            })
        }
    }

    /// Like [`Self::inverse`], but returns the closest configuration found inside the limits
    /// when the target cannot be reached (the controller moves as close as it can).
    pub fn inverse_best_effort(
        &self,
        target: &Isometry3<f64>,
        seed: &[f64],
        rest: Option<&[f64]>,
        cfg: &IkConfig,
    ) -> Result<IkSolution, IkError> {
        let n = self.dof();
        if seed.len() != n {
            return Err(IkError::SeedSize {
                got: seed.len(),
                expected: n,
            });
        }
        let mut q = DVector::from_column_slice(seed);
        self.clamp(q.as_mut_slice());
        for it in 0..cfg.max_iterations {
            let (pose, jac) = self.jacobian(q.as_slice());
            let ep = target.translation.vector - pose.translation.vector;
            let er = rotation_error(&pose.rotation, &target.rotation);
            let last = (ep.norm(), er.norm());
            if last.0 <= cfg.position_tolerance_m && last.1 <= cfg.rotation_tolerance_rad {
                return Ok(IkSolution {
                    q: q.as_slice().to_vec(),
                    position_error_m: last.0,
                    rotation_error_rad: last.1,
                    iterations: it,
                    converged: true,
                });
            }
            let mut err = Vector6::zeros();
            err.fixed_rows_mut::<3>(0)
                .copy_from(&(ep.cap_magnitude(cfg.max_step_m)));
            err.fixed_rows_mut::<3>(3)
                .copy_from(&(er.cap_magnitude(cfg.max_step_rad)));

            // Secondary task: drift towards the rest posture in the null space of the Jacobian.
            // Damping lets a little of it leak into the task, so it is dropped near the goal.
            let near = last.0 < 20.0 * cfg.position_tolerance_m
                && last.1 < 20.0 * cfg.rotation_tolerance_rad;
            let bias = match rest {
                Some(r) if !near => DVector::from_fn(n, |i, _| cfg.rest_gain * (r[i] - q[i])),
                _ => DVector::zeros(n),
            };

            let mut free = vec![true; n];
            let mut dq = DVector::zeros(n);
            for _ in 0..n {
                let mut jf = jac.clone();
                for (i, f) in free.iter().enumerate() {
                    if !f {
                        jf.column_mut(i).fill(0.0);
                    }
                }
                let mut bias_f = bias.clone();
                for (i, f) in free.iter().enumerate() {
                    if !f {
                        bias_f[i] = 0.0;
                    }
                }
                let jjt: Matrix6<f64> =
                    (&jf * jf.transpose()).fixed_view::<6, 6>(0, 0).into_owned()
                        + Matrix6::identity() * (cfg.damping * cfg.damping);
                let rhs = err - (&jf * &bias_f).fixed_rows::<6>(0).into_owned();
                let Some(y) = jjt.cholesky().map(|c| c.solve(&rhs)) else {
                    break;
                };
                dq = jf.transpose() * DVector::from_column_slice(y.as_slice()) + bias_f;
                let mut changed = false;
                for i in 0..n {
                    if !free[i] {
                        continue;
                    }
                    let j = &self.joints[i];
                    let next = q[i] + dq[i];
                    if (next < j.lower_rad && dq[i] < 0.0 && q[i] <= j.lower_rad + 1e-9)
                        || (next > j.upper_rad && dq[i] > 0.0 && q[i] >= j.upper_rad - 1e-9)
                    {
                        free[i] = false;
                        changed = true;
                    }
                }
                if !changed {
                    break;
                }
            }
            for i in 0..n {
                if !free[i] {
                    dq[i] = 0.0;
                }
            }
            q += dq;
            self.clamp(q.as_mut_slice());
        }
        let pose = self.forward(q.as_slice());
        let position_error_m = (target.translation.vector - pose.translation.vector).norm();
        let rotation_error_rad = rotation_error(&pose.rotation, &target.rotation).norm();

        Ok(IkSolution {
            q: q.as_slice().to_vec(),
            position_error_m,
            rotation_error_rad,
            iterations: cfg.max_iterations,
            converged: position_error_m <= cfg.position_tolerance_m
                && rotation_error_rad <= cfg.rotation_tolerance_rad,
        })
    }
}

fn gripper_from_urdf(robot: &urdf_rs::Robot) -> Option<GripperSpec> {
    let fingers: Vec<&urdf_rs::Joint> = robot
        .joints
        .iter()
        .filter(|j| matches!(j.joint_type, urdf_rs::JointType::Prismatic))
        .collect();
    let first = fingers.first()?;
    Some(GripperSpec {
        finger_joints: fingers.iter().map(|j| j.name.clone()).collect(),
        max_width_m: fingers.iter().map(|j| j.limit.upper).sum(),
        max_effort_n: first.limit.effort,
    })
}

/// Settings of [`ArmModel::inverse`].
#[derive(Clone, Debug)]
pub struct IkConfig {
    pub max_iterations: usize,
    pub position_tolerance_m: f64,
    pub rotation_tolerance_rad: f64,
    pub damping: f64,
    /// Largest Cartesian correction per iteration; keeps DLS steps in its linear range.
    pub max_step_m: f64,
    pub max_step_rad: f64,
    pub rest_gain: f64,
}

impl Default for IkConfig {
    fn default() -> Self {
        Self {
            max_iterations: 200,
            position_tolerance_m: 1e-4,
            rotation_tolerance_rad: 1e-3,
            damping: 0.02,
            max_step_m: 0.05,
            max_step_rad: 0.2,
            rest_gain: 0.02,
        }
    }
}

/// A converged IK answer.
#[derive(Clone, Debug)]
pub struct IkSolution {
    pub q: Vec<f64>,
    pub position_error_m: f64,
    pub rotation_error_rad: f64,
    pub iterations: usize,
    pub converged: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rotation::top_down;
    use nalgebra::Translation3;
    use rand::{Rng, SeedableRng};

    fn panda() -> ArmModel {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/robots/panda/panda.urdf");
        ArmModel::from_urdf_file(&path, "panda_link0", "panda_hand_tcp")
            .expect("the shipped URDF loads")
    }

    use std::f64::consts::{FRAC_PI_2, FRAC_PI_4};
    const HOME: [f64; 7] = [
        0.0,
        -FRAC_PI_4,
        0.0,
        -3.0 * FRAC_PI_4,
        0.0,
        FRAC_PI_2,
        FRAC_PI_4,
    ];

    #[test]
    fn reads_the_panda_chain() {
        let arm = panda();
        assert_eq!(arm.dof(), 7);
        assert_eq!(arm.joints[3].upper_rad, -0.0698);
        assert_eq!(arm.joints[1].max_acceleration, 7.5);
        let g = arm.gripper.as_ref().expect("the Panda has a gripper");
        assert!((g.max_width_m - 0.08).abs() < 1e-12);
        // Franka's published home pose puts the TCP about 0.31 m ahead of and 0.49 m above
        // the base (0.107 flange + 0.1034 TCP below the wrist), pointing down.
        let tcp = arm.forward(&HOME);
        assert!((tcp.translation.x - 0.307).abs() < 0.002, "{tcp}");
        assert!(tcp.translation.y.abs() < 1e-5);
        assert!((tcp.translation.z - 0.487).abs() < 0.002, "{tcp}");
        let z = tcp.rotation * Vector3::z();
        assert!((z.z + 1.0).abs() < 1e-5, "TCP z should point down, got {z}");
    }

    fn ur5e(tcp: &str) -> ArmModel {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/robots/ur5e/ur5e.urdf");
        ArmModel::from_urdf_file(&path, "base_link", tcp).expect("the shipped URDF loads")
    }

    /// The second arm, written from UR's DH table: at q = 0 the flange sits where UR's
    /// published zero pose has it (817.2, 232.9, 62.8 mm from base_link; the DH base is turned
    /// by pi), with its z axis along base_link's +y.
    #[test]
    fn reads_the_ur5e_chain_and_its_published_zero_pose() {
        let arm = ur5e("tool0");
        assert_eq!(arm.dof(), 6);
        assert_eq!(arm.joint_names()[0], "shoulder_pan_joint");
        assert!((arm.joints[2].upper_rad - std::f64::consts::PI).abs() < 1e-5);
        assert!((arm.joints[0].max_velocity - std::f64::consts::PI).abs() < 1e-5);
        assert!(
            arm.joints[0].max_jerk.is_infinite(),
            "UR publishes no jerk limit"
        );
        let flange = arm.forward(&[0.0; 6]);
        let p = flange.translation.vector;
        assert!(
            (p - Vector3::new(0.8172, 0.2329, 0.0628)).norm() < 1e-4,
            "{p}"
        );
        let z = flange.rotation * Vector3::z();
        assert!((z - Vector3::y()).norm() < 1e-5, "{z}");
        let g = ur5e("gripper_tcp").gripper.expect("the gripper is found");
        assert!((g.max_width_m - 0.085).abs() < 1e-9);
        assert_eq!(g.finger_joints.len(), 2);
    }

    /// Top-down poses across the table reach within 1 mm on the 6-DoF arm too.
    #[test]
    fn ik_reaches_the_table_on_the_ur5e() {
        let arm = ur5e("gripper_tcp");
        let home = [
            0.0, -FRAC_PI_2, FRAC_PI_2, -FRAC_PI_2, -FRAC_PI_2, -FRAC_PI_2,
        ];
        let tcp = arm.forward(&home);
        let z = tcp.rotation * Vector3::z();
        assert!(
            (z.z + 1.0).abs() < 1e-5,
            "the gripper points down at home: {z}"
        );
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for _ in 0..50 {
            let x = rng.random_range(0.3..0.65);
            let y = rng.random_range(-0.5..0.3);
            let zz = rng.random_range(0.02..0.3);
            let yaw = rng.random_range(-1.2..1.2);
            let target = Isometry3::from_parts(Translation3::new(x, y, zz), top_down(yaw));
            let sol = arm
                .inverse(&target, &home, Some(&home), &IkConfig::default())
                .expect("reachable target");
            let got = arm.forward(&sol.q);
            assert!((got.translation.vector - target.translation.vector).norm() <= 1e-3);
            assert!(rotation_error(&got.rotation, &target.rotation).norm() <= 0.01);
            assert!(arm.within_limits(&sol.q, 0.0));
        }
    }

    #[test]
    fn jacobian_matches_finite_differences() {
        let arm = panda();
        let q = [0.3, -0.5, 0.2, -2.0, 0.4, 1.8, 0.1];
        let (pose, jac) = arm.jacobian(&q);
        let h = 1e-6;
        for i in 0..7 {
            let mut qh = q;
            qh[i] += h;
            let ph = arm.forward(&qh);
            let dv = (ph.translation.vector - pose.translation.vector) / h;
            let dw = rotation_error(&pose.rotation, &ph.rotation) / h;
            for k in 0..3 {
                assert!((jac[(k, i)] - dv[k]).abs() < 1e-4, "linear J[{k},{i}]");
                assert!((jac[(k + 3, i)] - dw[k]).abs() < 1e-4, "angular J[{k},{i}]");
            }
        }
    }

    /// Reaches top-down poses across the table workspace within 1 mm / 0.01 rad, and every
    /// solution lies inside the joint limits.
    #[test]
    fn ik_reaches_the_workspace_within_limits() {
        let arm = panda();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let cfg = IkConfig::default();
        for _ in 0..300 {
            let x = rng.random_range(0.3..0.7);
            let y = rng.random_range(-0.45..0.35);
            let z = rng.random_range(0.02..0.45);
            let yaw = rng.random_range(-0.8..2.3);
            let target = Isometry3::from_parts(Translation3::new(x, y, z), top_down(yaw));
            let sol = arm
                .inverse(&target, &HOME, Some(&HOME), &cfg)
                .expect("reachable target");
            assert!(
                arm.within_limits(&sol.q, 0.0),
                "outside limits: {:?}",
                sol.q
            );
            let got = arm.forward(&sol.q);
            assert!((got.translation.vector - target.translation.vector).norm() <= 1e-3);
            assert!(rotation_error(&got.rotation, &target.rotation).norm() <= 0.01);
        }
    }

    #[test]
    fn ik_never_leaves_the_limits_even_for_unreachable_targets() {
        let arm = panda();
        let far = Isometry3::from_parts(Translation3::new(1.5, 0.0, 0.3), top_down(0.0));
        let err = arm
            .inverse(&far, &HOME, None, &IkConfig::default())
            .unwrap_err();
        assert!(matches!(err, IkError::NotConverged { .. }));
        let best = arm
            .inverse_best_effort(&far, &HOME, None, &IkConfig::default())
            .unwrap();
        assert!(arm.within_limits(&best.q, 0.0));
        assert!(!best.converged);
    }

    #[test]
    fn malformed_and_incomplete_urdfs_are_errors() {
        let e = ArmModel::from_urdf_str("<robot name='x'><link", "bad.urdf", "a", "b").unwrap_err();
        assert!(e.to_string().contains("bad.urdf"), "{e}");
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/robots/panda/panda.urdf"),
        )
        .unwrap();
        let e = ArmModel::from_urdf_str(&text, "p.urdf", "panda_link0", "nope").unwrap_err();
        assert!(e.to_string().contains("nope"), "{e}");
        let e =
            ArmModel::from_urdf_file(Path::new("/nonexistent/robot.urdf"), "a", "b").unwrap_err();
        assert!(e.to_string().contains("/nonexistent/robot.urdf"), "{e}");
    }
}
