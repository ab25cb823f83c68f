//! Perception: from what the body reports to the scene graph planners and policies use.

use nalgebra::{Isometry3, Translation3, Vector3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::types::{Container, Observation, SceneGraph, SceneObject, ShapeKind};

/// Builds the scene graph from one observation.
pub trait Perception: Send {
    fn perceive(&mut self, obs: &Observation) -> SceneGraph;
}

/// What perception knows about an object apart from its pose (from the scenario, standing in
/// for a detector's class, colour and size estimates).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ObjectInfo {
    pub id: String,
    pub class: String,
    pub color: String,
    pub shape: ShapeKind,
    pub extents: Vector3<f64>,
}

/// Simulated perception: the simulator's true object poses plus configurable Gaussian position
/// noise. It is a stand-in for camera perception (camera issue) and is named so in reports.
pub struct SimulatedPerception {
    objects: Vec<ObjectInfo>,
    containers: Vec<Container>,
    table_height_m: f64,
    position_noise_m: f64,
    rng: ChaCha8Rng,
}

impl SimulatedPerception {
    pub fn new(
        objects: Vec<ObjectInfo>,
        containers: Vec<Container>,
        table_height_m: f64,
        position_noise_m: f64,
        seed: u64,
    ) -> Self {
        Self {
            objects,
            containers,
            table_height_m,
            position_noise_m,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    fn noise(&mut self) -> Vector3<f64> {
        if self.position_noise_m <= 0.0 {
            return Vector3::zeros();
        }
        // Box-Muller: keeps the dependency list to rand's core.
        let mut g = || {
            let u1: f64 = self.rng.random::<f64>().max(1e-12);
            let u2: f64 = self.rng.random::<f64>();
            (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        };
        Vector3::new(g(), g(), g()) * self.position_noise_m
    }
}

impl Perception for SimulatedPerception {
    fn perceive(&mut self, obs: &Observation) -> SceneGraph {
        let mut scene = SceneGraph {
            stamp: obs.stamp,
            objects: Vec::new(),
            containers: self.containers.clone(),
            table_height_m: self.table_height_m,
        };
        let Some(truth) = obs.privileged.as_ref() else {
            return scene;
        };
        for pose in truth {
            let Some(info) = self.objects.iter().find(|o| o.id == pose.id).cloned() else {
                continue;
            };
            let n = self.noise();
            let pose_in_base: Isometry3<f64> = Translation3::from(n) * pose.pose_in_base;
            scene.objects.push(SceneObject {
                id: info.id,
                class: info.class,
                color: info.color,
                shape: info.shape,
                pose_in_base,
                extents: info.extents,
            });
        }
        scene
    }
}
