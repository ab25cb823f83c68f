//! Speed measurements of the simulator: the standard scene (arm moving, objects resting) and
//! whole scripted episodes. Figures are steps per wall-clock second on one thread.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::scenario::Scenario;
use crate::world::World;
use crate::SimError;

/// Joint targets of the benchmark motion at time `t`: every joint swings gently about home.
/// The MuJoCo reference script uses the same formula.
pub fn bench_motion(home: &[f64], t: f64) -> (Vec<f64>, Vec<f64>) {
    let w = std::f64::consts::TAU * 0.25;
    home.iter()
        .enumerate()
        .map(|(i, h)| {
            let a = 0.15;
            let phase = i as f64;
            (h + a * (w * t + phase).sin(), a * w * (w * t + phase).cos())
        })
        .unzip()
}

/// Min, median and max of a set of rates.
#[derive(Clone, Debug, Serialize)]
pub struct Rate {
    pub min: f64,
    pub median: f64,
    pub max: f64,
}

impl Rate {
    pub fn of(mut v: Vec<f64>) -> Self {
        v.sort_by(f64::total_cmp);
        Self {
            min: v[0],
            median: v[v.len() / 2],
            max: v[v.len() - 1],
        }
    }
}

/// The standard scene stepped `steps` times, `repeats` times; steps per second.
pub fn scene_steps_per_s(
    scenario: &Arc<Scenario>,
    seed: u64,
    steps: u64,
    repeats: usize,
) -> Result<Rate, SimError> {
    let mut rates = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let mut world = World::new(scenario.clone(), seed)?;
        let home = scenario.robot.home.clone();
        let open = world.max_gripper_width();
        let force = scenario.robot.grip_force_n;
        let start = Instant::now();
        for _ in 0..steps {
            let (q, dq) = bench_motion(&home, world.time());
            world.set_targets(&q, &dq, open, force);
            world.step();
        }
        rates.push(steps as f64 / start.elapsed().as_secs_f64());
    }
    Ok(Rate::of(rates))
}

/// Writes the concrete scene of `seed` (bodies, sizes, masses, poses, physics settings) as the
/// JSON the MuJoCo reference script builds its model from.
pub fn scene_description(
    scenario: &Arc<Scenario>,
    seed: u64,
) -> Result<serde_json::Value, SimError> {
    let world = World::new(scenario.clone(), seed)?;
    let objects: Vec<serde_json::Value> = world
        .objects
        .iter()
        .map(|o| {
            let i = &o.instance;
            serde_json::json!({
                "id": i.id, "shape": i.shape, "extents": i.extents, "mass": i.mass,
                "x": i.x, "y": i.y, "yaw": i.yaw,
            })
        })
        .collect();
    Ok(serde_json::json!({
        "urdf": scenario.urdf_path(),
        "dt": scenario.physics.dt,
        "friction": scenario.physics.friction,
        "gravity": scenario.physics.gravity,
        "home": scenario.robot.home,
        "arm_stiffness": scenario.robot.arm_stiffness,
        "arm_damping": scenario.robot.arm_damping,
        "table": {"size": scenario.table.size, "center": scenario.table.center},
        "containers": world.container_specs.iter().map(|c| serde_json::json!({
            "position": c.center(), "yaw": c.yaw, "inner_size": c.inner_size, "wall_thickness": c.wall_thickness,
        })).collect::<Vec<_>>(),
        "objects": objects,
    }))
}
