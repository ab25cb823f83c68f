//! Steering the diffusion policy at run time with costs on its chunk (classifier-guidance style,
//! no retraining). Actions are absolute TCP targets in the base frame, so the costs are analytic
//! in the positions: each [`Cost`] says, for every action's position, the displacement that
//! would remove its violation (the negative gradient of half its squared violation). In each
//! denoising step the sampler moves the predicted clean chunk by `strength` times the sum of
//! these pulls and re-derives the noise estimate from it (see `DiffusionPolicy`), so a
//! violation shrinks by that fraction per step while the network keeps the chunk coherent. The
//! safety filter still has the last word on every command.

use embody_agent::{Constraint, SceneGraph, Skill};
use nalgebra::{Isometry3, Point3, Vector3};

/// A cost on the TCP positions of a chunk (base frame, m).
pub trait Cost: Send + Sync {
    /// Adds, for each position, the displacement that would remove this cost's violation to
    /// `pull`; returns half the summed squared violation.
    fn add_pull(&self, p: &[Vector3<f64>], pull: &mut [Vector3<f64>]) -> f64;
}

/// Keep the TCP out of a box standing on the table (an object or a container wall, already
/// grown by the margin): a point inside is pulled out through the nearest side or the top,
/// never down into the table. Points inside `except` (the skill's own object, grown) are left
/// alone: the hand must reach it.
pub struct KeepOut {
    pub pose: Isometry3<f64>,
    pub half: Vector3<f64>,
    pub except: Option<(Isometry3<f64>, Vector3<f64>)>,
}

fn inside(pose: &Isometry3<f64>, half: &Vector3<f64>, p: &Vector3<f64>) -> Option<Vector3<f64>> {
    let local = pose.inverse_transform_point(&Point3::from(*p)).coords;
    (local.x.abs() < half.x && local.y.abs() < half.y && local.z.abs() < half.z).then_some(local)
}

impl Cost for KeepOut {
    fn add_pull(&self, p: &[Vector3<f64>], pull: &mut [Vector3<f64>]) -> f64 {
        let mut cost = 0.0;
        for (q, out) in p.iter().zip(pull.iter_mut()) {
            if let Some((pose, half)) = &self.except {
                if inside(pose, half, q).is_some() {
                    continue;
                }
            }
            let Some(l) = inside(&self.pose, &self.half, q) else {
                continue;
            };
            // The way out that moves least: a side (x or y) or the top.
            let exits = [
                Vector3::new(self.half.x.copysign(l.x) - l.x, 0.0, 0.0),
                Vector3::new(0.0, self.half.y.copysign(l.y) - l.y, 0.0),
                Vector3::new(0.0, 0.0, self.half.z - l.z),
            ];
            let local = exits
                .into_iter()
                .min_by(|a, b| a.norm().total_cmp(&b.norm()))
                .unwrap_or_default();
            let v = self.pose.rotation * local;
            cost += 0.5 * v.norm_squared();
            *out += v;
        }
        cost
    }
}

/// Keep the TCP at least `z_min` high (the table top plus a clearance).
pub struct Floor {
    pub z_min: f64,
}

impl Cost for Floor {
    fn add_pull(&self, p: &[Vector3<f64>], pull: &mut [Vector3<f64>]) -> f64 {
        let mut cost = 0.0;
        for (q, out) in p.iter().zip(pull.iter_mut()) {
            if q.z < self.z_min {
                let v = self.z_min - q.z;
                cost += 0.5 * v * v;
                out.z += v;
            }
        }
        cost
    }
}

/// Keep the TCP inside an axis-aligned workspace box.
pub struct Workspace {
    pub lo: Vector3<f64>,
    pub hi: Vector3<f64>,
}

impl Cost for Workspace {
    fn add_pull(&self, p: &[Vector3<f64>], pull: &mut [Vector3<f64>]) -> f64 {
        let mut cost = 0.0;
        for (q, out) in p.iter().zip(pull.iter_mut()) {
            let v = q.zip_zip_map(&self.lo, &self.hi, |x, lo, hi| x.clamp(lo, hi)) - q;
            cost += 0.5 * v.norm_squared();
            *out += v;
        }
        cost
    }
}

/// A Cartesian stand-in for joint-limit proximity: keep the TCP within `max_m` of the shoulder
/// (`center`) and beyond `min_m` of it. The arm's joints bind near full extension and when the
/// hand folds back onto the base; in between, inverse kinematics has room. (A Jacobian-based
/// cost would need the joint state per action, which the chunk does not carry.)
pub struct Reach {
    pub center: Vector3<f64>,
    pub min_m: f64,
    pub max_m: f64,
}

impl Cost for Reach {
    fn add_pull(&self, p: &[Vector3<f64>], pull: &mut [Vector3<f64>]) -> f64 {
        let mut cost = 0.0;
        for (q, out) in p.iter().zip(pull.iter_mut()) {
            let d = q - self.center;
            let r = d.norm();
            if r < 1e-9 {
                continue;
            }
            let want = r.clamp(self.min_m, self.max_m);
            if want != r {
                let v = d / r * (want - r);
                cost += 0.5 * v.norm_squared();
                *out += v;
            }
        }
        cost
    }
}

/// Smoothness toward the chunk executing: each position pulled toward the executing chunk's
/// target for the same time step, with a weight per step (1 near the hand-over, fading out).
pub struct Toward {
    pub targets: Vec<Option<(Vector3<f64>, f64)>>,
}

impl Cost for Toward {
    fn add_pull(&self, p: &[Vector3<f64>], pull: &mut [Vector3<f64>]) -> f64 {
        let mut cost = 0.0;
        for ((q, out), t) in p.iter().zip(pull.iter_mut()).zip(&self.targets) {
            if let Some((target, w)) = t {
                let v = (target - q) * *w;
                cost += 0.5 * v.norm_squared();
                *out += v;
            }
        }
        cost
    }
}

/// How strongly, and with what margins, the sampler is steered.
#[derive(Clone, Debug, PartialEq)]
pub struct GuidanceConfig {
    /// Fraction of the summed pull applied to the predicted chunk in each denoising step (0
    /// turns guidance off).
    pub strength: f64,
    /// Grows every other object's box (m) on each side and on top; the TCP and both
    /// fingertips are kept out of it.
    pub object_margin_m: f64,
    /// Grows each container wall (m).
    pub wall_margin_m: f64,
    /// Lowest TCP height above the table (m).
    pub floor_clearance_m: f64,
    /// The shoulder (base frame) and the reach band of the Cartesian joint-limit proxy.
    pub shoulder: Vector3<f64>,
    pub reach_min_m: f64,
    pub reach_max_m: f64,
    /// The safety filter's workspace, when known.
    pub workspace: Option<(Vector3<f64>, Vector3<f64>)>,
    /// Weight of the pull toward the executing chunk (0: none).
    pub smoothness: f64,
}

impl Default for GuidanceConfig {
    fn default() -> Self {
        // The Panda: shoulder 0.333 m above the base, reach 0.855 m.
        GuidanceConfig {
            strength: 0.5,
            object_margin_m: 0.015,
            wall_margin_m: 0.02,
            floor_clearance_m: 0.005,
            shoulder: Vector3::new(0.0, 0.0, 0.333),
            reach_min_m: 0.2,
            reach_max_m: 0.8,
            workspace: None,
            smoothness: 0.0,
        }
    }
}

/// Assumed wall thickness of a container (the scene graph reports the inner size only).
const WALL_M: f64 = 0.01;

/// A box standing on the table (centre pose, full extents) grown by `m` on each side and on
/// top, its bottom left on the table (half the growth of the height raises the centre):
/// (centre pose, half extents).
fn grown(pose: &Isometry3<f64>, extents: &Vector3<f64>, m: f64) -> (Isometry3<f64>, Vector3<f64>) {
    let half = extents / 2.0 + Vector3::new(m, m, m / 2.0);
    let mut centre = *pose;
    centre.translation.vector += pose.rotation * Vector3::new(0.0, 0.0, m / 2.0);
    (centre, half)
}

/// The keep-away constraints of the plan as keep-out boxes for one chunk of `skill`: each
/// object grown by its margin on every side and on top (the hand passing over it keeps the
/// margin too; see `grown`), except where the skill's own object (grown by `own_margin_m`) lies within
/// it, since the hand must reach that.
pub fn keep_away_costs(
    scene: &SceneGraph,
    skill: &Skill,
    constraints: &[Constraint],
    own_margin_m: f64,
) -> Vec<Box<dyn Cost>> {
    let except = scene
        .object(skill.object())
        .map(|o| grown(&o.pose_in_base, &o.extents, own_margin_m));
    constraints
        .iter()
        .filter_map(|c| match c {
            Constraint::KeepAway { object, margin_m } => {
                let o = scene.object(object)?;
                let (pose, half) = grown(&o.pose_in_base, &o.extents, *margin_m);
                Some(Box::new(KeepOut { pose, half, except }) as Box<dyn Cost>)
            }
        })
        .collect()
}

/// The costs for one chunk of `skill` in `scene`: keep-out boxes around every object the skill
/// is not about and around the container walls, the table, the workspace and the reach band.
pub fn costs_for(scene: &SceneGraph, skill: &Skill, cfg: &GuidanceConfig) -> Vec<Box<dyn Cost>> {
    let mut costs: Vec<Box<dyn Cost>> = Vec::new();
    let own = skill.object();
    let except = scene
        .object(own)
        .map(|o| grown(&o.pose_in_base, &o.extents, cfg.object_margin_m));
    for o in scene.objects.iter().filter(|o| o.id != own) {
        let (pose, half) = grown(&o.pose_in_base, &o.extents, cfg.object_margin_m);
        costs.push(Box::new(KeepOut { pose, half, except }));
    }
    for c in &scene.containers {
        let (ix, iy, h) = (c.inner_extents.x, c.inner_extents.y, c.inner_extents.z);
        let walls = [
            (
                Vector3::new((ix + WALL_M) / 2.0, 0.0, h / 2.0),
                Vector3::new(WALL_M, iy + 2.0 * WALL_M, h),
            ),
            (
                Vector3::new(-(ix + WALL_M) / 2.0, 0.0, h / 2.0),
                Vector3::new(WALL_M, iy + 2.0 * WALL_M, h),
            ),
            (
                Vector3::new(0.0, (iy + WALL_M) / 2.0, h / 2.0),
                Vector3::new(ix + 2.0 * WALL_M, WALL_M, h),
            ),
            (
                Vector3::new(0.0, -(iy + WALL_M) / 2.0, h / 2.0),
                Vector3::new(ix + 2.0 * WALL_M, WALL_M, h),
            ),
        ];
        for (offset, size) in walls {
            let mut pose = c.pose_in_base;
            pose.translation.vector += c.pose_in_base.rotation * offset;
            let (pose, half) = grown(&pose, &size, cfg.wall_margin_m);
            costs.push(Box::new(KeepOut {
                pose,
                half,
                except: None,
            }));
        }
    }
    costs.push(Box::new(Floor {
        z_min: scene.table_height_m + cfg.floor_clearance_m,
    }));
    if let Some((lo, hi)) = cfg.workspace {
        costs.push(Box::new(Workspace { lo, hi }));
    }
    costs.push(Box::new(Reach {
        center: cfg.shoulder,
        min_m: cfg.reach_min_m,
        max_m: cfg.reach_max_m,
    }));
    costs
}

/// The summed pull of `costs` on `p`, and their total cost.
pub fn total_pull(costs: &[Box<dyn Cost>], p: &[Vector3<f64>]) -> (Vec<Vector3<f64>>, f64) {
    let mut pull = vec![Vector3::zeros(); p.len()];
    let cost = costs.iter().map(|c| c.add_pull(p, &mut pull)).sum();
    (pull, cost)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_inside_a_box_is_pulled_out_the_nearest_way_never_down() {
        let k = KeepOut {
            pose: Isometry3::translation(0.5, 0.0, 0.05),
            half: Vector3::new(0.05, 0.05, 0.05),
            except: None,
        };
        let mut pull = vec![Vector3::zeros(); 3];
        let p = [
            Vector3::new(0.54, 0.0, 0.02), // near the +x side
            Vector3::new(0.5, 0.0, 0.095), // near the top
            Vector3::new(0.7, 0.0, 0.05),  // outside
        ];
        let cost = k.add_pull(&p, &mut pull);
        assert!(
            (pull[0] - Vector3::new(0.01, 0.0, 0.0)).norm() < 1e-12,
            "{:?}",
            pull[0]
        );
        assert!((pull[1] - Vector3::new(0.0, 0.0, 0.005)).norm() < 1e-12);
        assert_eq!(pull[2], Vector3::zeros());
        assert!((cost - 0.5 * (0.01f64.powi(2) + 0.005f64.powi(2))).abs() < 1e-12);
        // Inside the exception (the skill's own object): left alone.
        let k = KeepOut {
            except: Some((
                Isometry3::translation(0.55, 0.0, 0.05),
                Vector3::new(0.03, 0.03, 0.05),
            )),
            ..k
        };
        let mut pull = vec![Vector3::zeros(); 1];
        k.add_pull(&[Vector3::new(0.54, 0.0, 0.02)], &mut pull);
        assert_eq!(pull[0], Vector3::zeros());
    }

    #[test]
    fn floor_workspace_and_reach_pull_back_inside() {
        let p = [Vector3::new(0.3, 0.0, -0.02), Vector3::new(1.2, 0.0, 0.333)];
        let costs: Vec<Box<dyn Cost>> = vec![
            Box::new(Floor { z_min: 0.0 }),
            Box::new(Reach {
                center: Vector3::new(0.0, 0.0, 0.333),
                min_m: 0.2,
                max_m: 0.8,
            }),
        ];
        let (pull, _) = total_pull(&costs, &p);
        assert!((pull[0].z - 0.02).abs() < 1e-12);
        assert!((pull[1] - Vector3::new(-0.4, 0.0, 0.0)).norm() < 1e-12);
        let w = Workspace {
            lo: Vector3::new(0.2, -0.5, 0.0),
            hi: Vector3::new(0.8, 0.5, 0.6),
        };
        let mut pull = vec![Vector3::zeros(); 1];
        w.add_pull(&[Vector3::new(0.9, 0.0, 0.3)], &mut pull);
        assert!((pull[0] - Vector3::new(-0.1, 0.0, 0.0)).norm() < 1e-12);
    }

    /// A keep-away object's box grows by the margin on the sides and on top; the skill's own
    /// object is exempt where the two overlap; other objects and constraints on absent
    /// objects add nothing.
    #[test]
    fn keep_away_boxes_take_the_margin_on_every_side_and_on_top() {
        use embody_agent::types::{SceneObject, ShapeKind};
        let obj = |id: &str, x: f64| SceneObject {
            id: id.into(),
            class: "cube".into(),
            color: "red".into(),
            shape: ShapeKind::Box,
            pose_in_base: Isometry3::translation(x, 0.0, 0.025),
            extents: Vector3::new(0.05, 0.05, 0.05),
        };
        let scene = SceneGraph {
            stamp: 0.0,
            objects: vec![obj("a", 0.5), obj("cup", 0.6)],
            containers: vec![],
            table_height_m: 0.0,
        };
        let skill = Skill::Pick { object: "a".into() };
        let c = [
            Constraint::KeepAway {
                object: "cup".into(),
                margin_m: 0.05,
            },
            Constraint::keep_away("gone"),
        ];
        let costs = keep_away_costs(&scene, &skill, &c, 0.015);
        assert_eq!(costs.len(), 1);
        let p = [
            Vector3::new(0.6, 0.0, 0.095),  // 4.5 cm above the cup's top: pulled up
            Vector3::new(0.6, 0.07, 0.03),  // beside it, within the margin: pulled out
            Vector3::new(0.6, 0.0, 0.105),  // above the margin
            Vector3::new(0.535, 0.0, 0.03), // at the own object, inside the cup's margin
        ];
        let (pull, _) = total_pull(&costs, &p);
        assert!(
            (pull[0] - Vector3::new(0.0, 0.0, 0.005)).norm() < 1e-9,
            "{:?}",
            pull[0]
        );
        assert!(
            (pull[1] - Vector3::new(0.0, 0.005, 0.0)).norm() < 1e-9,
            "{:?}",
            pull[1]
        );
        assert_eq!(pull[2], Vector3::zeros());
        assert_eq!(pull[3], Vector3::zeros());
    }
}
