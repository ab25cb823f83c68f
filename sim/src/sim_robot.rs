//! The simulator as an `embody_agent::Robot`: commands set motor targets, `advance` steps the
//! physics in lockstep, observations come straight from the rapier world.

use embody_agent::robot::{Robot, RobotError};
use embody_agent::types::{GripperState, JointCommand, JointState, Observation};

use std::sync::Arc;

use embody_agent::types::CameraFrame;

use crate::camera::{render, CameraSpec};
use crate::clearance::ClearanceMeter;
use crate::disturbance::DisturbanceMeter;
use crate::world::World;

pub struct SimRobot {
    pub world: World,
    joint_names: Vec<String>,
    /// The scenario's first camera and its latest frame.
    camera: Option<(CameraSpec, Option<Arc<CameraFrame>>)>,
    /// Objects the arm disturbed during skills about other objects.
    pub disturbance: DisturbanceMeter,
    /// How close the hand came to what the plan says to keep away from.
    pub clearance: ClearanceMeter,
}

impl SimRobot {
    pub fn new(world: World) -> Self {
        let joint_names = world.arm.joint_names();
        let camera = world.scenario.cameras.first().cloned().map(|c| (c, None));
        Self {
            world,
            joint_names,
            camera,
            disturbance: DisturbanceMeter::default(),
            clearance: ClearanceMeter::default(),
        }
    }

    /// The current camera frame, rendered again once it is a period (`rate_hz`) old.
    fn camera_frame(&mut self) -> Result<Option<Arc<CameraFrame>>, RobotError> {
        let now = self.world.time();
        let Some((spec, last)) = self.camera.as_mut() else {
            return Ok(None);
        };
        let fresh = last
            .as_ref()
            .is_some_and(|f| now - f.stamp < 1.0 / spec.rate_hz - 1e-9);
        if !fresh {
            let frame = render(&self.world, spec)
                .map_err(|e| RobotError::Other(format!("camera '{}': {e}", spec.name)))?;
            *last = Some(Arc::new(frame));
        }
        Ok(last.clone())
    }
}

impl Robot for SimRobot {
    fn observe(&mut self) -> Result<Observation, RobotError> {
        let (position, velocity) = self.world.arm_state();
        let n = position.len();
        Ok(Observation {
            stamp: self.world.time(),
            joints: JointState {
                names: self.joint_names.clone(),
                position,
                velocity,
                effort: vec![0.0; n],
                stamp: self.world.time(),
            },
            gripper: GripperState {
                width_m: self.world.gripper_width(),
                force_n: 0.0,
            },
            ee_in_base: self.world.tcp_pose(),
            camera: self.camera_frame()?,
            privileged: Some(self.world.object_poses()),
        })
    }

    fn command(&mut self, cmd: &JointCommand) -> Result<(), RobotError> {
        cmd.check(self.joint_names.len())?;
        self.world.set_targets(
            &cmd.positions,
            &cmd.velocities,
            cmd.gripper.width_m,
            cmd.gripper.max_force_n,
        );
        Ok(())
    }

    fn advance(&mut self, dt_s: f64) -> Result<(), RobotError> {
        let steps = (dt_s / self.world.dt()).round().max(1.0) as u64;
        for _ in 0..steps {
            self.world.step();
            // Every physics step: the closest approach can fall between control ticks.
            self.clearance.check(&self.world);
        }
        self.disturbance.check(&self.world);
        Ok(())
    }

    fn skill_started(&mut self, skill: &embody_agent::types::Skill) {
        self.disturbance.skill_started(&self.world, skill.object());
    }

    fn plan_started(&mut self, plan: &embody_agent::types::Plan) {
        self.clearance.set(&self.world, plan);
    }

    fn now(&self) -> f64 {
        self.world.time()
    }
}
