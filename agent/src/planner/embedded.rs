//! The embedded planner: offline, deterministic, its words kept as data (`grammar.toml`).
//!
//! A request is screened for anything unsafe as a whole (`screen.rs`), read into clauses
//! (`parse.rs`), and turned into acts: which objects move where, in what order, which stay. The
//! acts are grounded against the scene graph (`refs.rs`), refusing with a reason what cannot be
//! grounded, and picks are ordered so that the gripper never reaches through an obstacle.

use std::collections::HashSet;

use crate::types::{CameraFrame, Constraint, Plan, SceneGraph, SceneObject, Skill};

use super::acts::{names_one, read_acts, Act, Guard, ReadActs};
use super::grammar::Grammar;
use super::parse::{parse, Dest, Item, ParseError};
use super::refs::{container, ground_item, ground_items, Ctx};
use super::refusal::Refusal;
use super::screen::screen;
use super::speech;
use super::spelling::Speller;
use super::text::sentences;
use super::{validate, Instruction, PlanError, Planner};

pub struct EmbeddedPlanner {
    grammar: Grammar,
    speller: Speller,
}

impl Default for EmbeddedPlanner {
    fn default() -> Self {
        Self::from_grammar(Grammar::builtin())
    }
}

pub(super) const CAN_DO: &str = "I can clear the table, put objects in a container, or pick one up";

impl EmbeddedPlanner {
    /// A planner with another grammar (same format as the built-in `grammar.toml`).
    pub fn with_grammar(text: &str) -> Result<Self, super::GrammarError> {
        Ok(Self::from_grammar(Grammar::parse(text)?))
    }

    fn from_grammar(grammar: Grammar) -> Self {
        Self {
            speller: Speller::new(&grammar),
            grammar,
        }
    }

    fn explain(&self, e: ParseError) -> String {
        match e {
            ParseError::Unknown { word, clause } => format!(
                "I do not understand '{word}' in '{clause}': it is not a word I know for an object, a place or an action; {CAN_DO}"
            ),
            ParseError::Misplaced { word, clause } => format!(
                "I do not understand '{clause}': '{word}' does not fit there; {CAN_DO}"
            ),
        }
    }
}

/// Objects still on the table: not in a container, not fallen off.
fn on_table(scene: &SceneGraph) -> Vec<&SceneObject> {
    scene
        .objects
        .iter()
        .filter(|o| o.pose_in_base.translation.z > scene.table_height_m - 0.02)
        .filter(|o| {
            !scene
                .containers
                .iter()
                .any(|c| c.contains(&o.pose_in_base.translation.vector.into(), 0.0, 0.05))
        })
        .collect()
}

fn footprint(o: &SceneObject) -> f64 {
    0.5 * o.extents.x.hypot(o.extents.y)
}

/// Picks the most accessible object first: the one with the widest free ring around it among
/// those still on the table, never one with something resting on it.
fn order_by_clearance(
    targets: Vec<String>,
    scene: &SceneGraph,
    present: &[&SceneObject],
) -> Vec<String> {
    let mut remaining: Vec<&SceneObject> = present.to_vec();
    let mut pending = targets;
    let mut out = Vec::new();
    while !pending.is_empty() {
        let clearance = |id: &String| -> f64 {
            let Some(p) = scene.object(id) else {
                return f64::NEG_INFINITY;
            };
            let pp = p.pose_in_base.translation.vector;
            remaining
                .iter()
                .filter(|o| o.id != p.id)
                .map(|o| {
                    let op = o.pose_in_base.translation.vector;
                    let d = (op - pp).xy().norm();
                    let on_top = op.z > pp.z + p.extents.z / 2.0 - 0.01 && d < footprint(p);
                    if on_top {
                        f64::NEG_INFINITY
                    } else {
                        d - footprint(p) - footprint(o)
                    }
                })
                .fold(f64::INFINITY, f64::min)
        };
        let best = pending
            .iter()
            .enumerate()
            .map(|(i, id)| (i, clearance(id)))
            .fold(None, |acc: Option<(usize, f64)>, (i, c)| match acc {
                Some((_, bc)) if bc >= c => acc,
                _ => Some((i, c)),
            })
            .map(|(i, _)| i)
            .unwrap_or(0);
        let id = pending.remove(best);
        remaining.retain(|o| o.id != id);
        out.push(id);
    }
    out
}

/// A request read: its acts, what stays, and what remarks named.
struct Read {
    acts: Vec<Act>,
    stays: Vec<Item>,
    /// What the hand keeps away from (it stays too): keep-away constraints.
    avoid: Vec<Item>,
    remarked: Vec<Item>,
}

impl Planner for EmbeddedPlanner {
    fn plan(
        &self,
        instruction: &Instruction,
        scene: &SceneGraph,
        _image: Option<&CameraFrame>,
    ) -> Result<Plan, PlanError> {
        let refuse = |r: Refusal| PlanError::refused(instruction, r);
        let read = self.read(&instruction.text).map_err(refuse)?;
        let plan = self.ground(&read, scene).map_err(refuse)?;
        if plan.steps.is_empty() {
            return Err(refuse(Refusal::not_in_scene(format!(
                "'{}' leaves nothing to move",
                instruction.text.trim()
            ))));
        }
        validate(&plan, scene)?;
        Ok(plan)
    }
}

impl EmbeddedPlanner {
    /// The request as acts and what stays: screened as a whole, cleaned of speech, parsed into
    /// clauses, read into acts. `Err` is the refusal's reason.
    fn read(&self, text: &str) -> Result<Read, Refusal> {
        let words = sentences(text);
        if words.is_empty() {
            return Err(Refusal::not_understood("the instruction is empty"));
        }
        if let Some(reason) = screen(&self.grammar, &words) {
            return Err(Refusal::unsafe_(reason));
        }
        let (words, typos) = self.speller.correct(&self.grammar, &words);
        if !typos.is_empty() {
            // What a typo meant is screened too: "thorw the cup" is throwing.
            if let Some(reason) = screen(&self.grammar, &words) {
                return Err(Refusal::unsafe_(reason));
            }
            for (typed, read) in &typos {
                tracing::info!("planner: read '{typed}' as '{read}'");
            }
        }
        let words: Vec<Vec<String>> = words
            .iter()
            .map(|s| speech::clean(&self.grammar, s))
            .filter(|s| !s.is_empty())
            .collect();
        // What cleaning made of the words is screened too ("gimme the cup": "give me").
        if let Some(reason) = screen(&self.grammar, &words) {
            return Err(Refusal::unsafe_(reason));
        }
        let parsed =
            parse(&self.grammar, &words).map_err(|e| Refusal::not_understood(self.explain(e)))?;
        for talk in &parsed.skipped {
            tracing::warn!("planner: skipped '{talk}': it asks for nothing I can do");
        }
        let clauses = parsed.clauses;
        if clauses.is_empty() {
            return Err(Refusal::not_understood(format!(
                "I do not understand '{}': nothing in it asks for an action; {CAN_DO}",
                text.trim()
            )));
        }
        for c in &clauses {
            if let Some(Dest::Refused(reason)) = &c.dest {
                return Err(reason.clone());
            }
        }
        tracing::trace!("planner: clauses {clauses:#?}");
        let ReadActs { acts, stays, avoid } =
            read_acts(&clauses, &self.grammar.safety.fixed_reason)?;
        tracing::trace!("planner: acts {acts:#?}");
        if acts.is_empty() {
            return Err(Refusal::not_in_scene(format!(
                "'{}' leaves nothing to move",
                text.trim()
            )));
        }
        // "the mug is chipped, bin the rest": what a remark names is named, for "the rest".
        let remarked = clauses
            .iter()
            .filter(|c| c.remark)
            .flat_map(|c| c.objects.iter().cloned())
            .collect();
        Ok(Read {
            acts,
            stays,
            avoid,
            remarked,
        })
    }

    /// The acts grounded in the scene, in order, as pick and place steps. `Err` is the
    /// refusal's reason.
    fn ground(&self, read: &Read, scene: &SceneGraph) -> Result<Plan, Refusal> {
        let (acts, stays) = (&read.acts, &read.stays);
        let present = on_table(scene);
        let mut ctx = Ctx {
            scene,
            present: present.clone(),
            mentioned: HashSet::new(),
            previous: Vec::new(),
            previous_named_kind: true,
            fixed_reason: &self.grammar.safety.fixed_reason,
        };
        // "If there's a pink cup, bin it, otherwise bin the yellow one": the acts of the branch
        // the scene takes; the other branch's are as if never said.
        let holds = |g: &Guard| ground_items(&g.items, &ctx).is_ok_and(|ids| !ids.is_empty());
        let live: Vec<bool> = acts
            .iter()
            .map(|a| a.guard.as_ref().is_none_or(|g| holds(g) == g.holds))
            .collect();
        let unmet = acts
            .iter()
            .zip(&live)
            .find(|(_, live)| !**live)
            .and_then(|(a, _)| a.guard.as_ref());
        let live_acts = || acts.iter().zip(&live).filter(|(_, l)| **l).map(|(a, _)| a);
        // Everything named anywhere (not "the rest" itself): what "the rest" leaves out.
        let mut mentioned = HashSet::new();
        for it in live_acts()
            .flat_map(|a| a.items.iter().chain(&a.except))
            .chain(stays)
            .chain(&read.remarked)
        {
            if matches!(it, Item::Ref(r) if r.other || r.bare_one) {
                continue;
            }
            if let Ok(ids) = ground_item(it, &ctx) {
                mentioned.extend(ids);
            }
        }
        ctx.mentioned = mentioned;
        let stay_ids: HashSet<String> = ground_items(stays, &ctx)?.into_iter().collect();
        // Order: "first" acts, then the rest as said, then "last" ones; hints stay with theirs.
        let rank = |a: &Act| {
            if a.first {
                0
            } else if a.last {
                2
            } else {
                1
            }
        };
        let mut order: Vec<usize> = (0..acts.len())
            .filter(|&i| acts[i].hint_for.is_none() && live[i])
            .collect();
        order.sort_by_key(|&i| rank(&acts[i]));
        let default_container = scene
            .containers
            .first()
            .ok_or_else(|| Refusal::not_in_scene("there is no container to put things in"))?;
        // Objects that an act names explicitly are that act's: "clear the table, the cup last"
        // leaves the cup to its own act.
        // Likewise "Bin the cup and the can, but the cup last": an object that a first or last
        // act names goes with that act, not with a plain one that names it too.
        let mut claimed: HashSet<String> = HashSet::new();
        let mut ordered_claims: HashSet<String> = HashSet::new();
        for a in live_acts().filter(|a| !a.everything && a.hint_for.is_none()) {
            if let Ok(ids) = ground_items(&a.items, &ctx) {
                if a.first || a.last {
                    ordered_claims.extend(ids.iter().cloned());
                }
                claimed.extend(ids);
            }
        }
        let mut plan = Plan::default();
        // "avoid the cup", "don't touch the blue box": kept in place (they are in `stays`) and
        // kept away from, in the scene's order.
        let avoid: HashSet<String> = ground_items(&read.avoid, &ctx)?.into_iter().collect();
        plan.constraints = scene
            .objects
            .iter()
            .filter(|o| avoid.contains(&o.id))
            .map(|o| Constraint::keep_away(o.id.clone()))
            .collect();
        let mut moved: HashSet<String> = HashSet::new();
        let mut held = false;
        for (k, &i) in order.iter().enumerate() {
            let a = &acts[i];
            if held {
                return Err(Refusal::unclear(
                    "after picking an object up, say where to put it",
                ));
            }
            let into = match &a.dest {
                Some(Dest::Container(c)) => container(c, scene)?,
                Some(Dest::Refused(reason)) => return Err(reason.clone()),
                None => default_container,
            };
            let mut targets = if a.everything {
                present
                    .iter()
                    .map(|o| o.id.clone())
                    .filter(|id| !claimed.contains(id))
                    .collect()
            } else {
                named_targets(a, &ctx, &stay_ids)?
            };
            let except: HashSet<String> = ground_items(&a.except, &ctx)?.into_iter().collect();
            let plain = !(a.first || a.last);
            let owned_elsewhere = |id: &String| plain && ordered_claims.contains(id);
            targets.retain(|id| {
                !(stay_ids.contains(id)
                    || except.contains(id)
                    || moved.contains(id)
                    || owned_elsewhere(id))
            });
            let mut ordered = if a.as_said {
                targets.clone()
            } else {
                order_by_clearance(targets.clone(), scene, &present)
            };
            // "working from left to right": across the table, whatever the clearance.
            if let Some(key) = &a.sweep {
                ordered = swept(ordered, key, scene);
            }
            // "the nearer one first": the hinted objects lead this act's order.
            for h in acts.iter().filter(|h| h.hint_for == Some(i)) {
                let hint_ctx = Ctx {
                    previous: targets.clone(),
                    mentioned: ctx.mentioned.clone(),
                    present: present.clone(),
                    ..ctx
                };
                ordered = led_by_hint(ordered, h, &hint_ctx)?;
            }
            if a.hold {
                if ordered.len() != 1 {
                    return Err(Refusal::out_of_scope(format!(
                        "the gripper holds one object at a time; '{}' names {}",
                        a.text,
                        ordered.len()
                    )));
                }
                if k + 1 != order.len() {
                    return Err(Refusal::unclear(
                        "after picking an object up, say where to put it",
                    ));
                }
                plan.steps.push(Skill::Pick {
                    object: ordered[0].clone(),
                });
                held = true;
                continue;
            }
            ctx.previous = ordered.clone();
            ctx.previous_named_kind = a.items.iter().any(|it| match it {
                Item::Ref(r) => r.names_kind(),
                _ => true,
            });
            for id in ordered {
                plan.steps.push(Skill::Pick { object: id.clone() });
                plan.steps.push(Skill::Place {
                    object: id.clone(),
                    into: into.id.clone(),
                });
                moved.insert(id);
            }
        }
        if let Some(g) = unmet.filter(|_| plan.steps.is_empty()) {
            return Err(Refusal::not_in_scene(format!(
                "the condition '{}' is not met in this scene, and nothing else is asked",
                g.text
            )));
        }
        Ok(plan)
    }
}

/// The objects an act names: each item grounded once, in mention order without repeats (as
/// `ground_items`), checking on the way that no single named object also stays.
fn named_targets(a: &Act, ctx: &Ctx, stay_ids: &HashSet<String>) -> Result<Vec<String>, Refusal> {
    let mut ids: Vec<String> = Vec::new();
    for it in &a.items {
        for id in ground_item(it, ctx)? {
            if names_one(it) && stay_ids.contains(&id) {
                return Err(Refusal::unclear(format!(
                    "'{}' is asked both to move and to stay",
                    a.text
                )));
            }
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    Ok(ids)
}

/// `ids` across the table: the side or distance `key` names first ("left": largest y first;
/// "near": nearest the base first). Ties keep their order.
fn swept(mut ids: Vec<String>, key: &str, scene: &SceneGraph) -> Vec<String> {
    let value = |id: &String| -> f64 {
        let Some(o) = scene.object(id) else {
            return 0.0;
        };
        let p = o.pose_in_base.translation.vector;
        match key {
            "left" => -p.y,
            "right" => p.y,
            "near" => p.xy().norm(),
            "far" => -p.xy().norm(),
            _ => 0.0,
        }
    };
    ids.sort_by(|a, b| value(a).total_cmp(&value(b)));
    ids
}

/// `ordered` with the objects a hint names moved to the front ("the nearer one first") or the
/// back ("the nearer one last").
fn led_by_hint(ordered: Vec<String>, hint: &Act, ctx: &Ctx) -> Result<Vec<String>, Refusal> {
    let lead = ground_items(&hint.items, ctx)?;
    let (mut front, back): (Vec<String>, Vec<String>) =
        ordered.into_iter().partition(|id| lead.contains(id));
    if hint.last {
        let mut out = back;
        out.extend(front);
        Ok(out)
    } else {
        front.extend(back);
        Ok(front)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Container, ShapeKind};
    use nalgebra::{Isometry3, Vector3};

    fn scene() -> SceneGraph {
        let obj = |id: &str, class: &str, color: &str, x: f64, y: f64| SceneObject {
            id: id.into(),
            class: class.into(),
            color: color.into(),
            shape: ShapeKind::Box,
            pose_in_base: Isometry3::translation(x, y, 0.025),
            extents: Vector3::new(0.05, 0.05, 0.05),
        };
        SceneGraph {
            stamp: 0.0,
            objects: vec![
                obj("red_cube", "cube", "red", 0.5, 0.2),
                obj("blue_box", "box", "blue", 0.6, 0.0),
                obj("green_can", "can", "green", 0.4, -0.1),
                obj("yellow_cup", "cup", "yellow", 0.45, -0.25),
            ],
            containers: vec![Container {
                id: "bin".into(),
                class: "bin".into(),
                pose_in_base: Isometry3::translation(0.0, -0.5, 0.0),
                inner_extents: Vector3::new(0.3, 0.2, 0.1),
            }],
            table_height_m: 0.0,
        }
    }

    /// Word salad from the grammar's own words, punctuation and odd characters: every request
    /// Keeping away from an object, however it is said, leaves it in place and puts a
    /// keep-away constraint in the plan; leaving it, or handling it with care, does not; and
    /// moving what must be kept away from is a contradiction.
    #[test]
    fn keeping_away_from_an_object_is_a_constraint_in_the_plan() {
        let planner = EmbeddedPlanner::default();
        let s = scene();
        let plan = |text: &str| planner.plan(&Instruction::new(text), &s, None);
        for text in [
            "clear the table but keep away from the cup",
            "Clear the table, stay away from the yellow cup.",
            "clear the table without touching the cup",
            "clear the table but don't touch the cup",
            "put the red cube in the bin and avoid the cup",
            "clear the table but be careful around the yellow cup",
            "Steer clear of the cup and clear everything else.",
            "Keep the gripper away from the cup, bin the rest.",
            "clear the table but don't bump into the cup",
            "could you tidy up? try not to touch the yellow cup though",
        ] {
            let p = plan(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(
                p.constraints,
                vec![Constraint::keep_away("yellow_cup")],
                "{text}"
            );
            assert!(
                p.steps.iter().all(|k| k.object() != "yellow_cup"),
                "{text}: {:?}",
                p.steps
            );
        }
        for text in [
            "clear the table but leave the cup",
            "leave the cup where it is and clear the rest",
            "don't put the cup in the bin, clear the rest",
            "clear the table",
        ] {
            let p = plan(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert!(p.constraints.is_empty(), "{text}: {:?}", p.constraints);
        }
        assert!(plan("put the cup in the bin but keep away from the cup").is_err());
    }

    /// ends in a plan or a refusal (no panic, no hang), and a plan is always a valid one.
    #[test]
    fn any_word_sequence_plans_or_refuses() {
        let planner = EmbeddedPlanner::default();
        let s = scene();
        let vocab: Vec<&str> = super::super::grammar::BUILTIN
            .split(|c: char| !c.is_alphanumeric() && c != '\'')
            .filter(|w| !w.is_empty())
            .chain([
                ",",
                ".",
                "?",
                "and",
                "then",
                "the",
                "it",
                "\u{820}\u{820}ing",
                "é",
                "9999999999999999999999",
                "-1",
            ])
            .collect();
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..3000 {
            let n = 1 + (next() % 14) as usize;
            let text: Vec<&str> = (0..n)
                .map(|_| vocab[(next() % vocab.len() as u64) as usize])
                .collect();
            let text = text.join(" ");
            if let Ok(plan) = planner.plan(&Instruction::new(text.as_str()), &s, None) {
                assert!(validate(&plan, &s).is_ok(), "{text:?} -> {plan:?}");
                assert!(!plan.steps.is_empty(), "{text:?}");
            }
        }
    }
}
