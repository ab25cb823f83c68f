//! Turns a scenario and a seed into concrete objects: sizes, masses and non-overlapping,
//! reachable placements on the table. Same scenario and seed, same scene, on any machine.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::scenario::{ObjectInstance, Scenario, ScenarioError, Shape};

/// Attempts per object before the scene is declared impossible to place.
const PLACEMENT_TRIES: usize = 5000;

fn uniform(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    if hi > lo {
        rng.random_range(lo..=hi)
    } else {
        lo
    }
}

/// Footprint radius of an object on the table (half its horizontal diagonal).
fn footprint_radius(extents: &[f64; 3]) -> f64 {
    0.5 * extents[0].hypot(extents[1])
}

pub fn sample_objects(s: &Scenario, seed: u64) -> Result<Vec<ObjectInstance>, ScenarioError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut placed: Vec<ObjectInstance> = Vec::new();
    for spec in &s.objects {
        let count = if spec.count.high() > spec.count.low() {
            rng.random_range(spec.count.low()..=spec.count.high())
        } else {
            spec.count.low()
        };
        for k in 0..count {
            let id = if spec.count.high() > 1 {
                format!("{}_{}", spec.id, k + 1)
            } else {
                spec.id.clone()
            };
            let j = spec.size_jitter;
            let scale = |rng: &mut ChaCha8Rng, v: f64| v * (1.0 + uniform(rng, -j, j));
            let extents = match spec.shape {
                Shape::Box => [
                    scale(&mut rng, spec.size[0]),
                    scale(&mut rng, spec.size[1]),
                    scale(&mut rng, spec.size[2]),
                ],
                Shape::Cylinder | Shape::Cup => {
                    let d = scale(&mut rng, spec.size[0]);
                    [d, d, scale(&mut rng, spec.size[1])]
                }
            };
            let mass = uniform(&mut rng, spec.mass.low(), spec.mass.high());
            let r = footprint_radius(&extents);
            let mut spot = None;
            for _ in 0..PLACEMENT_TRIES {
                let x = uniform(&mut rng, s.spawn.x[0], s.spawn.x[1]);
                let y = uniform(&mut rng, s.spawn.y[0], s.spawn.y[1]);
                let yaw = uniform(&mut rng, s.spawn.yaw[0], s.spawn.yaw[1]);
                let reach = x.hypot(y);
                if reach < s.spawn.min_reach + r || reach > s.spawn.max_reach - r {
                    continue;
                }
                if !s.on_table(x, y, r) {
                    continue;
                }
                let clear_of_containers = s.containers.iter().all(|c| {
                    let hx = c.inner_size[0] / 2.0 + c.wall_thickness + r + s.spawn.min_gap;
                    let hy = c.inner_size[1] / 2.0 + c.wall_thickness + r + s.spawn.min_gap;
                    let (dx, dy) = (x - c.position[0], y - c.position[1]);
                    let (cy, sy) = (c.yaw.cos(), c.yaw.sin());
                    let (lx, ly) = (cy * dx + sy * dy, -sy * dx + cy * dy);
                    lx.abs() > hx || ly.abs() > hy
                });
                let clear_of_objects = placed.iter().all(|o| {
                    let d = (x - o.x).hypot(y - o.y);
                    d >= r + footprint_radius(&o.extents) + s.spawn.min_gap
                });
                if clear_of_containers && clear_of_objects {
                    spot = Some((x, y, yaw));
                    break;
                }
            }
            let Some((x, y, yaw)) = spot else {
                return Err(ScenarioError::Placement {
                    path: s.source.display().to_string(),
                    message: format!(
                        "no free, reachable spot for '{id}' after {PLACEMENT_TRIES} tries with seed {seed}: \
                         enlarge [spawn] or reduce spawn.min_gap or the object count"
                    ),
                });
            };
            placed.push(ObjectInstance {
                id,
                class: spec.class.clone(),
                shape: spec.shape,
                color: spec.color.clone(),
                extents,
                mass,
                x,
                y,
                yaw,
            });
        }
    }
    Ok(placed)
}
