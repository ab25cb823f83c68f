//! Tracks a chunk of end-effector targets with joint commands at the control rate.
//!
//! Each tick: interpolate the chunk to the current time, solve IK from the previous command
//! (limits respected), then shape the joint motion so that no joint exceeds its velocity or
//! acceleration limit (scaled by `limit_scale`) and every joint can still stop at its target.

use nalgebra::{Isometry3, UnitQuaternion};

use crate::kinematics::{ArmModel, IkConfig};
use crate::types::{ActionChunk, GripperCommand, JointCommand};

#[derive(Clone, Debug)]
pub struct ControllerConfig {
    /// Control period (s).
    pub dt: f64,
    /// Fraction of the arm's velocity and acceleration limits the controller may use.
    pub limit_scale: f64,
    /// Force the gripper closes with (N).
    pub grip_force_n: f64,
    /// Posture the IK's redundancy drifts towards.
    pub rest_posture: Vec<f64>,
    pub ik: IkConfig,
}

/// Stateful tracker of action chunks.
pub struct Controller {
    arm: ArmModel,
    cfg: ControllerConfig,
    q_cmd: Vec<f64>,
    dq_cmd: Vec<f64>,
    chunk: Option<ActionChunk>,
    /// Target pose when the current chunk arrived: the interpolation starts from it.
    chunk_origin: Isometry3<f64>,
    gripper_width_m: f64,
    last_target: Isometry3<f64>,
}

impl Controller {
    /// Starts holding the joint configuration `q_now`.
    pub fn new(arm: ArmModel, cfg: ControllerConfig, q_now: &[f64], gripper_width_m: f64) -> Self {
        let pose = arm.forward(q_now);
        let n = arm.dof();
        Self {
            arm,
            cfg,
            q_cmd: q_now.to_vec(),
            dq_cmd: vec![0.0; n],
            chunk: None,
            chunk_origin: pose,
            gripper_width_m,
            last_target: pose,
        }
    }

    pub fn config(&self) -> &ControllerConfig {
        &self.cfg
    }

    /// Joint positions the controller last commanded.
    pub fn commanded_positions(&self) -> &[f64] {
        &self.q_cmd
    }

    pub fn arm(&self) -> &ArmModel {
        &self.arm
    }

    /// The end-effector target the controller is tracking now.
    pub fn current_target(&self) -> Isometry3<f64> {
        self.last_target
    }

    /// Replaces the chunk being tracked.
    pub fn set_chunk(&mut self, chunk: ActionChunk) {
        self.chunk_origin = self.last_target;
        self.chunk = Some(chunk);
    }

    /// How far the TCP target at robot time `t` moves if `next` replaces the chunk being
    /// tracked (m): the discontinuity a hand-over puts into the commanded motion. `None`
    /// without a chunk to compare with.
    pub fn handover_jump_m(&self, next: &ActionChunk, t: f64) -> Option<f64> {
        let old = self.chunk.as_ref()?;
        let (a, _) = self.target_along(Some(old), &self.chunk_origin, t);
        let (b, _) = self.target_along(Some(next), &self.last_target, t);
        Some((a.translation.vector - b.translation.vector).norm())
    }

    /// Target pose and gripper width at time `t` along the current chunk.
    fn target_at(&self, t: f64) -> (Isometry3<f64>, f64) {
        self.target_along(self.chunk.as_ref(), &self.chunk_origin, t)
    }

    /// Target pose and gripper width at time `t` along `chunk`, coming from `origin` before its
    /// first action.
    fn target_along(
        &self,
        chunk: Option<&ActionChunk>,
        origin: &Isometry3<f64>,
        t: f64,
    ) -> (Isometry3<f64>, f64) {
        let Some(chunk) = chunk else {
            return (self.last_target, self.gripper_width_m);
        };
        if chunk.actions.is_empty() || chunk.dt <= 0.0 {
            return (self.last_target, self.gripper_width_m);
        }
        // Action i is due at start + (i + 1) dt; before action 0 we come from chunk_origin.
        let s = (t - chunk.start) / chunk.dt;
        let i = s.floor();
        let frac = s - i;
        let idx = i as isize;
        let last = chunk.actions.len() as isize - 1;
        if idx >= last {
            let a = chunk.actions[last as usize];
            return (a.ee_target_in_base, a.gripper_width_m);
        }
        let (from, _) = if idx < 0 {
            (*origin, self.gripper_width_m)
        } else {
            let a = chunk.actions[idx as usize];
            (a.ee_target_in_base, a.gripper_width_m)
        };
        let next = chunk.actions[(idx + 1).max(0) as usize];
        let frac = if idx < 0 {
            (s + 1.0).clamp(0.0, 1.0)
        } else {
            frac
        };
        let pos = from
            .translation
            .vector
            .lerp(&next.ee_target_in_base.translation.vector, frac);
        let rot: UnitQuaternion<f64> = from
            .rotation
            .try_slerp(&next.ee_target_in_base.rotation, frac, 1e-9)
            .unwrap_or(next.ee_target_in_base.rotation);
        // The gripper switches at the action boundary: a half-closed gripper grasps nothing.
        (Isometry3::from_parts(pos.into(), rot), next.gripper_width_m)
    }

    /// One control tick at robot time `t`.
    pub fn tick(&mut self, t: f64) -> JointCommand {
        let (target, gripper) = self.target_at(t);
        self.last_target = target;
        self.gripper_width_m = gripper;
        let q_des = match self.arm.inverse_best_effort(
            &target,
            &self.q_cmd,
            Some(&self.cfg.rest_posture),
            &self.cfg.ik,
        ) {
            Ok(s) => s.q,
            Err(_) => self.q_cmd.clone(),
        };
        let dt = self.cfg.dt;
        for (i, j) in self.arm.joints.iter().enumerate() {
            let vmax = j.max_velocity * self.cfg.limit_scale;
            let amax = if j.max_acceleration.is_finite() {
                j.max_acceleration * self.cfg.limit_scale
            } else {
                f64::INFINITY
            };
            let e = q_des[i] - self.q_cmd[i];
            // Fastest speed from which the joint can still stop at the target.
            let v_stop = (2.0 * amax * e.abs()).sqrt();
            let v_lim = vmax.min(v_stop);
            let v_target = (e / dt).clamp(-v_lim, v_lim);
            let v = v_target.clamp(self.dq_cmd[i] - amax * dt, self.dq_cmd[i] + amax * dt);
            self.dq_cmd[i] = v;
            self.q_cmd[i] = (self.q_cmd[i] + v * dt).clamp(j.lower_rad, j.upper_rad);
        }
        JointCommand {
            stamp: t,
            positions: self.q_cmd.clone(),
            velocities: self.dq_cmd.clone(),
            gripper: GripperCommand {
                width_m: gripper,
                max_force_n: self.cfg.grip_force_n,
            },
        }
    }
}
