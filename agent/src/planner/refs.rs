//! Grounds parsed references ("the second red cube from the left", "anything yellow", "the
//! can farthest from you", "the cube next to the cup", "the rest") against the scene graph.

use std::collections::HashSet;

use nalgebra::Vector3;

use crate::types::{SceneGraph, SceneObject};

use super::parse::{ContainerRef, Item, Quantity, Rank, Ref};
use super::refusal::Refusal;

/// What references are grounded against.
pub struct Ctx<'a> {
    pub scene: &'a SceneGraph,
    /// The objects on the table when the request was made.
    pub present: Vec<&'a SceneObject>,
    /// Objects named anywhere in the request: "the rest" is everything else.
    pub mentioned: HashSet<String>,
    /// The objects of the clause before: what "the nearer one" picks among.
    pub previous: Vec<String>,
    /// Whether the clause before named a kind (a class or colour): "the leftmost object, then
    /// the rightmost one" asks for any object, "the left cube, then the right one" for a cube.
    pub previous_named_kind: bool,
    /// Why a container or the table cannot be an object to move.
    pub fixed_reason: &'a str,
}

/// Grounds a list of items to object ids, in mention order, without repeats.
pub fn ground_items(items: &[Item], ctx: &Ctx) -> Result<Vec<String>, Refusal> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        for id in ground_item(item, ctx)? {
            if !out.contains(&id) {
                out.push(id);
            }
        }
    }
    Ok(out)
}

pub fn ground_item(item: &Item, ctx: &Ctx) -> Result<Vec<String>, Refusal> {
    match item {
        Item::Ref(r) => resolve(r, ctx),
        Item::Table => Ok(ctx.present.iter().map(|o| o.id.clone()).collect()),
        Item::Pronoun if !ctx.previous.is_empty() => Ok(ctx.previous.clone()),
        Item::Pronoun => Err(Refusal::unclear(
            "'it' or 'them' refers to nothing named before it",
        )),
        Item::Container(_) => Err(Refusal::unsafe_(ctx.fixed_reason)),
    }
}

/// The container a reference names, or why none.
pub fn container<'a>(
    c: &ContainerRef,
    scene: &'a SceneGraph,
) -> Result<&'a crate::types::Container, Refusal> {
    if let Some(found) = scene.containers.iter().find(|k| k.id == c.text) {
        return Ok(found);
    }
    let matching: Vec<_> = scene
        .containers
        .iter()
        .filter(|k| c.classes.iter().any(|cl| cl == "*" || *cl == k.class))
        .collect();
    let noun = c.text.split_whitespace().last().unwrap_or("container");
    if matching.is_empty() {
        return Err(Refusal::not_in_scene(format!("there is no {noun} here")));
    }
    match c.ordinal {
        Some(k) => {
            let idx = if k < 0 {
                matching.len() as i64 + k
            } else {
                k - 1
            };
            usize::try_from(idx)
                .ok()
                .and_then(|i| matching.get(i).copied())
                .ok_or_else(|| {
                    Refusal::not_in_scene(format!(
                        "'{}': there is only {} {noun} here",
                        c.text,
                        matching.len()
                    ))
                })
        }
        None if matching.len() == 1 => Ok(matching[0]),
        None => Err(Refusal::unclear(format!(
            "'{}' is ambiguous: {} containers match",
            c.text,
            matching.len()
        ))),
    }
}

fn describe(r: &Ref) -> String {
    let mut d = String::new();
    if !r.colors.is_empty() {
        d.push_str(&r.colors.join(" or "));
        d.push(' ');
    }
    match &r.classes {
        Some(c) => d.push_str(&c.join(" or ")),
        None => d.push_str("object"),
    }
    d
}

fn pos(o: &SceneObject) -> Vector3<f64> {
    o.pose_in_base.translation.vector
}

/// Where an anchor is: an object, a container, or the robot's base.
fn anchor_position(anchor: &Item, ctx: &Ctx) -> Result<(Vector3<f64>, Option<String>), Refusal> {
    match anchor {
        Item::Container(c) => Ok((
            container(c, ctx.scene)?.pose_in_base.translation.vector,
            None,
        )),
        other => {
            let ids = ground_item(other, ctx)?;
            if ids.len() != 1 {
                return Err(Refusal::unclear(format!(
                    "the object to relate to is not unique ({} match)",
                    ids.len()
                )));
            }
            let o = ctx
                .scene
                .object(&ids[0])
                .ok_or_else(|| Refusal::not_in_scene(format!("no object '{}'", ids[0])))?;
            Ok((pos(o), Some(o.id.clone())))
        }
    }
}

/// Where a relation's anchor is: one object or container, or each object of a group the anchor
/// names as a group ("the blue boxes", "both cans"); the objects' ids, to leave out.
fn anchor_positions(anchor: &Item, ctx: &Ctx) -> Result<(Vec<Vector3<f64>>, Vec<String>), Refusal> {
    let group = matches!(anchor, Item::Ref(r) if matches!(
        r.quantity,
        Quantity::All | Quantity::Both | Quantity::Count(2..)
    ));
    if !group {
        let (a, id) = anchor_position(anchor, ctx)?;
        return Ok((vec![a], id.into_iter().collect()));
    }
    let ids = ground_item(anchor, ctx)?;
    let objects: Vec<&SceneObject> = ids.iter().filter_map(|id| ctx.scene.object(id)).collect();
    if objects.is_empty() {
        return Err(Refusal::not_in_scene(
            "there is nothing on the table to relate to",
        ));
    }
    Ok((objects.iter().map(|o| pos(o)).collect(), ids))
}

/// The objects on the table, other than `base`, of the same class and colour as one of `base`
/// where there are such, else of the same class, else all of them.
fn same_kind<'a>(base: &[&SceneObject], ctx: &Ctx<'a>) -> Vec<&'a SceneObject> {
    let others: Vec<&'a SceneObject> = ctx
        .present
        .iter()
        .copied()
        .filter(|o| !base.iter().any(|b| b.id == o.id))
        .collect();
    let like = |same: &dyn Fn(&SceneObject, &SceneObject) -> bool| -> Vec<&'a SceneObject> {
        others
            .iter()
            .copied()
            .filter(|o| base.iter().any(|b| same(o, b)))
            .collect()
    };
    let exact = like(&|o, b| o.class == b.class && o.color == b.color);
    if !exact.is_empty() {
        return exact;
    }
    let class = like(&|o, b| o.class == b.class);
    if !class.is_empty() {
        return class;
    }
    others
}

fn resolve<'a>(r: &Ref, ctx: &Ctx<'a>) -> Result<Vec<String>, Refusal> {
    if !r.unchecked.is_empty() {
        tracing::warn!(
            reference = %r.text,
            "planner: not checked: {} (the scene records class, colour and position only)",
            r.unchecked.join(", ")
        );
    }
    let objects = |ids: &mut dyn Iterator<Item = &String>| -> Vec<&'a SceneObject> {
        ids.filter_map(|id| ctx.scene.object(id)).collect()
    };
    let scene_objects: Vec<&SceneObject> = if r.bare_one && ctx.previous.len() >= 2 {
        // "the two cans, the nearer one first (then the other)": one of those.
        objects(&mut ctx.previous.iter())
    } else if r.bare_one && (ctx.previous.len() <= 1 || r.other) {
        // "the left white can, then the right one", "leave the other one": one more of the
        // kind just named. With nothing just named (what stays is grounded before the acts:
        // "bin the left can and the right can. The middle one can stay."), of the kind named
        // anywhere.
        let base = if ctx.previous.is_empty() {
            objects(&mut ctx.mentioned.iter())
        } else {
            objects(&mut ctx.previous.iter())
        };
        if base.is_empty() {
            ctx.present.clone()
        } else if !ctx.previous_named_kind && !r.other {
            ctx.present
                .iter()
                .copied()
                .filter(|o| !base.iter().any(|b| b.id == o.id))
                .collect()
        } else {
            same_kind(&base, ctx)
        }
    } else {
        ctx.present.clone()
    };
    let mut c: Vec<&SceneObject> = scene_objects
        .into_iter()
        .filter(|o| !r.other || !ctx.mentioned.contains(&o.id))
        .filter(|o| r.colors.is_empty() || r.colors.contains(&o.color))
        .filter(|o| !r.not_colors.contains(&o.color))
        .filter(|o| r.classes.as_ref().is_none_or(|cl| cl.contains(&o.class)))
        .filter(|o| !r.not_classes.contains(&o.class))
        .collect();
    // A word's first class is what it usually means ("block": a cube); the others only where
    // nothing of the first fits ("the blue block" with a blue box and no blue cube).
    if let Some([usual, _, ..]) = r.classes.as_deref().filter(|_| !r.every_class) {
        if c.iter().any(|o| &o.class == usual) {
            c.retain(|o| &o.class == usual);
        }
    }
    if c.is_empty() {
        if r.other {
            return Ok(Vec::new());
        }
        return Err(Refusal::not_in_scene(format!(
            "there is no {} on the table",
            describe(r)
        )));
    }
    if let Some((rel, anchor)) = &r.relation {
        let (anchors, anchor_ids) = anchor_positions(anchor, ctx)?;
        c.retain(|o| !anchor_ids.contains(&o.id));
        // Against a group ("near the blue boxes", "left of the cans"): the nearest of them,
        // and beyond all of them.
        let d = |o: &SceneObject| {
            anchors
                .iter()
                .map(|a| (pos(o) - a).xy().norm())
                .fold(f64::INFINITY, f64::min)
        };
        let (lo, hi) = anchors.iter().fold(
            (
                Vector3::repeat(f64::INFINITY),
                Vector3::repeat(f64::NEG_INFINITY),
            ),
            |(lo, hi), a| (lo.inf(a), hi.sup(a)),
        );
        match rel.as_str() {
            "left" => c.retain(|o| pos(o).y > hi.y),
            "right" => c.retain(|o| pos(o).y < lo.y),
            "behind" => c.retain(|o| pos(o).x > hi.x),
            "front" => c.retain(|o| pos(o).x < lo.x),
            "on" => c.retain(|o| pos(o).z > lo.z + 0.01 && d(o) < 0.05),
            _ => {
                // "next to": the candidates nearest the anchor. "The cubes next to the cup":
                // all within a hand's width of it; "the red cube next to the purple box": the
                // nearest, unless another is within 3 cm of as near (then it asks).
                c.sort_by(|p, q| d(p).total_cmp(&d(q)));
                if let Some(best) = c.first().map(|o| d(o)) {
                    let one = matches!(r.quantity, Quantity::Definite | Quantity::Any);
                    let reach = if one {
                        best + 0.03
                    } else {
                        (best + 0.03).max(0.15)
                    };
                    c.retain(|o| d(o) <= reach);
                }
            }
        }
        if c.is_empty() {
            return Err(Refusal::not_in_scene(format!(
                "there is no {} {rel} of that on the table ('{}')",
                describe(r),
                r.text
            )));
        }
    }
    // Left is +y seen from the robot (facing +x).
    let left_to_right = |c: &mut Vec<&SceneObject>| {
        c.sort_by(|p, q| pos(q).y.total_cmp(&pos(p).y).then(p.id.cmp(&q.id)))
    };
    // "Everything on the left side", "the cubes on the right": with no count, a side is a
    // region, the robot's half of the table on that side of its centreline (y = 0 in the base
    // frame; scenes put the robot facing the table's middle), not the one object furthest out.
    if let (Some(Rank::Key(side)), Quantity::All) = (&r.rank, r.quantity) {
        if r.side_region && (side == "left" || side == "right") {
            c.retain(|o| {
                if side == "left" {
                    pos(o).y > 0.0
                } else {
                    pos(o).y < 0.0
                }
            });
            if c.is_empty() {
                return Err(Refusal::not_in_scene(format!(
                    "there is no {} on the {side} side of the table ('{}')",
                    describe(r),
                    r.text
                )));
            }
            return Ok(c.iter().map(|o| o.id.clone()).collect());
        }
    }
    if let Some(rank) = &r.rank {
        let median_y = {
            let mut ys: Vec<f64> = c.iter().map(|o| pos(o).y).collect();
            ys.sort_by(f64::total_cmp);
            ys.get(ys.len() / 2).copied().unwrap_or(0.0)
        };
        // "The middle one" of an even number has none in the middle.
        if matches!(rank, Rank::Key(k) if k == "middle") && c.len().is_multiple_of(2) {
            return Err(Refusal::unclear(format!(
                "'{}': {} objects match, so none is in the middle; say which",
                r.text,
                c.len()
            )));
        }
        let keyed: Vec<(f64, &SceneObject)> = match rank {
            Rank::Key(k) => c
                .iter()
                .map(|o| {
                    let v = o.extents.x * o.extents.y * o.extents.z;
                    let key = match k.as_str() {
                        // Left to right across the table, from the median of the candidates.
                        "middle" => (pos(o).y - median_y).abs(),
                        "left" => -pos(o).y,
                        "right" => pos(o).y,
                        "near" => pos(o).xy().norm(),
                        "far" => -pos(o).xy().norm(),
                        "big" => -v,
                        "small" => v,
                        "short" => o.extents.z,
                        _ => -o.extents.z,
                    };
                    (key, *o)
                })
                .collect(),
            Rank::From { anchor, far } => {
                let (a, anchor_id) = anchor_position(anchor, ctx)?;
                c.retain(|o| Some(&o.id) != anchor_id.as_ref());
                c.iter()
                    .map(|o| {
                        let d = (pos(o) - a).xy().norm();
                        (if *far { -d } else { d }, *o)
                    })
                    .collect()
            }
        };
        let mut keyed = keyed;
        keyed.sort_by(|p, q| p.0.total_cmp(&q.0).then(p.1.id.cmp(&q.1.id)));
        c = keyed.into_iter().map(|(_, o)| o).collect();
        let keep = match r.quantity {
            Quantity::Count(n) => n,
            Quantity::Both => 2,
            _ => 1,
        };
        if c.len() < keep {
            return Err(Refusal::not_in_scene(format!(
                "'{}': only {} {} on the table",
                r.text,
                c.len(),
                describe(r)
            )));
        }
        c.truncate(keep);
        return Ok(c.iter().map(|o| o.id.clone()).collect());
    }
    if let Some((k, from_right)) = r.ordinal {
        left_to_right(&mut c);
        if from_right {
            c.reverse();
        }
        let idx = if k < 0 { c.len() as i64 + k } else { k - 1 };
        if idx < 0 || idx as usize >= c.len() {
            return Err(Refusal::not_in_scene(format!(
                "'{}': there are only {} matching objects",
                r.text,
                c.len()
            )));
        }
        c = vec![c[idx as usize]];
    }
    let by_distance = |c: &mut Vec<&SceneObject>| {
        c.sort_by(|p, q| {
            pos(p)
                .xy()
                .norm()
                .total_cmp(&pos(q).xy().norm())
                .then(p.id.cmp(&q.id))
        })
    };
    let chosen: Vec<&SceneObject> = match r.quantity {
        Quantity::All => c,
        Quantity::Definite if c.len() == 1 || r.ordinal.is_some() => c,
        Quantity::Definite => {
            left_to_right(&mut c);
            return Err(Refusal::unclear(format!(
                "'{}' is ambiguous: {} objects match ({}); say which, e.g. 'the leftmost {}'",
                r.text,
                c.len(),
                c.iter()
                    .map(|o| o.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                describe(r)
            )));
        }
        Quantity::Both if c.len() == 2 => c,
        Quantity::Both => {
            return Err(Refusal::unclear(format!(
                "'{}': {} objects match, not two",
                r.text,
                c.len()
            )))
        }
        Quantity::Any => {
            by_distance(&mut c);
            c.truncate(1);
            c
        }
        Quantity::Count(n) if c.len() >= n => {
            by_distance(&mut c);
            c.truncate(n);
            c
        }
        Quantity::Count(n) => {
            return Err(Refusal::not_in_scene(format!(
                "'{}': only {} {} on the table, not {n}",
                r.text,
                c.len(),
                describe(r)
            )))
        }
    };
    Ok(chosen.iter().map(|o| o.id.clone()).collect())
}
