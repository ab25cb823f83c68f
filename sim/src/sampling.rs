//! Turns a scenario and a seed into one concrete scene: where the containers stand (for a scene
//! family), which objects there are, their sizes, masses and non-overlapping, reachable
//! placements on the table. Same scenario and seed, same scene, on any machine.
//!
//! Each kind of draw has its own random stream, so a scenario without family keys gives the
//! very scenes it gave before they existed (the shipped figures and logs stay valid).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::scenario::{ContainerSpec, ObjectInstance, Scenario, ScenarioError, Shape};

/// Attempts per object before the scene is declared impossible to place.
const PLACEMENT_TRIES: usize = 5000;

/// Stream offsets of the draws added for scene families.
const CONTAINER_STREAM: u64 = 0xc0a7_a1e2_0000_0001;
const CATALOGUE_STREAM: u64 = 0xca7a_1090_0000_0002;

/// One concrete scene of a scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct SceneSample {
    /// The scenario's containers, each at its placement for this seed.
    pub containers: Vec<ContainerSpec>,
    pub objects: Vec<ObjectInstance>,
}

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

/// The scene for `seed`.
pub fn sample_scene(s: &Scenario, seed: u64) -> Result<SceneSample, ScenarioError> {
    let containers = sample_containers(s, seed)?;
    let objects = sample_objects(s, seed, &containers)?;
    Ok(SceneSample {
        containers,
        objects,
    })
}

/// Each container at its fixed position, or drawn from its placements.
pub fn sample_containers(s: &Scenario, seed: u64) -> Result<Vec<ContainerSpec>, ScenarioError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ CONTAINER_STREAM);
    let mut placed: Vec<ContainerSpec> = Vec::new();
    for c in &s.containers {
        if c.placements.is_empty() {
            placed.push(c.clone());
            continue;
        }
        let mut spot = None;
        for _ in 0..PLACEMENT_TRIES {
            let r = &c.placements[rng.random_range(0..c.placements.len())];
            let x = uniform(&mut rng, r.x[0], r.x[1]);
            let y = uniform(&mut rng, r.y[0], r.y[1]);
            let yaw = uniform(&mut rng, r.yaw[0], r.yaw[1]);
            let corners = c.corners_at(x, y, yaw);
            let on_table = corners.iter().all(|p| s.on_table(p[0], p[1], 0.0));
            // The drop spots lie inside the walls: the centre within the objects' reach and
            // every corner no farther than the reach plus a hand's width.
            let reach = x.hypot(y);
            let reachable = reach >= s.spawn.min_reach
                && reach <= s.spawn.max_reach
                && corners
                    .iter()
                    .all(|p| p[0].hypot(p[1]) <= s.spawn.max_reach + 0.1);
            let clear = placed.iter().all(|o| {
                let [ax, ay] = c.outer_half_extents();
                let [bx, by] = o.outer_half_extents();
                let [ox, oy] = o.center();
                (x - ox).hypot(y - oy) > ax.hypot(ay) + bx.hypot(by) + s.spawn.min_gap
            });
            if on_table && reachable && clear {
                spot = Some((x, y, yaw));
                break;
            }
        }
        let Some((x, y, yaw)) = spot else {
            return Err(ScenarioError::Placement {
                path: s.source.display().to_string(),
                message: format!(
                    "no placement of container '{}' on the table, within reach and clear of the \
                     other containers after {PLACEMENT_TRIES} tries with seed {seed}: widen its \
                     `placements`",
                    c.id
                ),
            });
        };
        placed.push(c.placed(x, y, yaw));
    }
    Ok(placed)
}

/// How many of each object kind: each its own draw, or (with `spawn.total`) a total shared out.
/// `None` without `spawn.total`: each kind then draws its count from the placement stream, as
/// scenarios always did.
fn object_counts(s: &Scenario, seed: u64) -> Option<Vec<usize>> {
    let [lo, hi] = s.spawn.total?;
    let mut rng_total = ChaCha8Rng::seed_from_u64(seed ^ CATALOGUE_STREAM);
    let total = rng_total.random_range(lo..=hi);
    let mut counts: Vec<usize> = s.objects.iter().map(|o| o.count.low()).collect();
    let mut have: usize = counts.iter().sum();
    while have < total {
        let open: Vec<usize> = (0..counts.len())
            .filter(|&k| counts[k] < s.objects[k].count.high())
            .collect();
        // Validation makes every total reachable; this only guards the loop.
        if open.is_empty() {
            break;
        }
        counts[open[rng_total.random_range(0..open.len())]] += 1;
        have += 1;
    }
    Some(counts)
}

pub fn sample_objects(
    s: &Scenario,
    seed: u64,
    containers: &[ContainerSpec],
) -> Result<Vec<ObjectInstance>, ScenarioError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let counts = object_counts(s, seed).unwrap_or_default();
    let mut placed: Vec<ObjectInstance> = Vec::new();
    for (kind, spec) in s.objects.iter().enumerate() {
        let count = match counts.get(kind) {
            Some(n) => *n,
            None if spec.count.high() > spec.count.low() => {
                rng.random_range(spec.count.low()..=spec.count.high())
            }
            None => spec.count.low(),
        };
        for k in 0..count {
            let id = if spec.count.high() > 1 {
                format!("{}_{}", spec.id, k + 1)
            } else {
                spec.id.clone()
            };
            let whole = match spec.scale {
                Some([lo, hi]) => uniform(&mut rng, lo, hi),
                None => 1.0,
            };
            let j = spec.size_jitter;
            let scale = |rng: &mut ChaCha8Rng, v: f64| whole * v * (1.0 + uniform(rng, -j, j));
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
                let clear_of_containers = containers.iter().all(|c| {
                    let [hx, hy] = c.outer_half_extents();
                    let (hx, hy) = (hx + r + s.spawn.min_gap, hy + r + s.spawn.min_gap);
                    let [cx, cy] = c.center();
                    let (dx, dy) = (x - cx, y - cy);
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
