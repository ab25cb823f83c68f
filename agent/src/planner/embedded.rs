//! The embedded planner: offline, deterministic, grammar as data (`grammar.toml`).
//!
//! It refuses unsafe or out-of-scope requests first, splits "first ... then ..." into steps,
//! matches each step against the grammar's sentence patterns, grounds every object and container
//! reference against the scene graph (refusing, with a reason, what it cannot ground), and
//! orders picks so that the gripper never reaches through an obstacle.

use std::collections::HashSet;

use crate::types::{CameraFrame, Container, Plan, SceneGraph, SceneObject, Skill};

use super::grammar::{normalize, Grammar, Intent};
use super::refs::ground_list;
use super::{validate, Instruction, PlanError, Planner};

pub struct EmbeddedPlanner {
    grammar: Grammar,
}

impl Default for EmbeddedPlanner {
    fn default() -> Self {
        Self {
            grammar: Grammar::builtin(),
        }
    }
}

impl EmbeddedPlanner {
    /// A planner with another grammar (same format as the built-in `grammar.toml`).
    pub fn with_grammar(text: &str) -> Result<Self, super::GrammarError> {
        Ok(Self {
            grammar: Grammar::parse(text)?,
        })
    }

    fn split_steps(&self, text: &str) -> Vec<String> {
        let mut parts = vec![text.to_string()];
        for sep in &self.grammar.sequence.separators {
            parts = parts
                .iter()
                .flat_map(|p| {
                    p.split(sep.as_str())
                        .map(str::to_string)
                        .collect::<Vec<_>>()
                })
                .collect();
        }
        parts
            .into_iter()
            .map(|p| {
                let mut p = p.trim().trim_matches(',').trim().to_string();
                for lead in &self.grammar.sequence.leading {
                    if let Some(rest) = p.strip_prefix(lead.as_str()) {
                        p = rest.trim().to_string();
                    }
                }
                p
            })
            .filter(|p| !p.is_empty())
            .collect()
    }

    fn container<'a>(
        &self,
        text: Option<&str>,
        scene: &'a SceneGraph,
    ) -> Result<&'a Container, String> {
        let Some(text) = text else {
            return scene
                .containers
                .first()
                .ok_or_else(|| "there is no container to put things in".to_string());
        };
        let lex = &self.grammar.lexicon;
        let noun = text
            .split_whitespace()
            .filter(|w| {
                !lex.definite.iter().any(|d| d == w) && !lex.indefinite.iter().any(|d| d == w)
            })
            .filter(|w| !lex.colors.iter().any(|c| c == w))
            .collect::<Vec<_>>()
            .join(" ");
        if let Some(c) = scene.containers.iter().find(|c| c.id == noun) {
            return Ok(c);
        }
        let classes = lex
            .containers
            .get(noun.as_str())
            .ok_or_else(|| format!("I do not know the container '{text}'"))?;
        let matching: Vec<&Container> = scene
            .containers
            .iter()
            .filter(|c| classes.iter().any(|k| k == "*" || *k == c.class))
            .collect();
        match matching.len() {
            0 => Err(format!("there is no {noun}")),
            1 => Ok(matching[0]),
            n => Err(format!("'{text}' is ambiguous: {n} containers match")),
        }
    }
}

/// Objects still on the table: not in a container, not fallen off.
fn on_table<'a>(scene: &'a SceneGraph, moved: &HashSet<String>) -> Vec<&'a SceneObject> {
    scene
        .objects
        .iter()
        .filter(|o| !moved.contains(&o.id))
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

impl Planner for EmbeddedPlanner {
    fn plan(
        &self,
        instruction: &Instruction,
        scene: &SceneGraph,
        _image: Option<&CameraFrame>,
    ) -> Result<Plan, PlanError> {
        let refuse = |reason: String| PlanError::Refused {
            instruction: instruction.text.clone(),
            reason,
        };
        let text = normalize(&instruction.text);
        if text.is_empty() {
            return Err(refuse("the instruction is empty".into()));
        }
        if let Some(reason) = self.grammar.refusal(&text) {
            return Err(refuse(reason.to_string()));
        }
        let steps = self.split_steps(&text);
        let mut plan = Plan::default();
        let mut moved: HashSet<String> = HashSet::new();
        let lex = &self.grammar.lexicon;
        // "put the can in the bin, then the cube": a bare reference repeats the previous verb
        // and container.
        let mut previous: Option<(Intent, Option<String>)> = None;
        for (n, step) in steps.iter().enumerate() {
            let matched = self
                .grammar
                .patterns
                .iter()
                .find_map(|p| p.regex.captures(step).map(|c| (p.intent, c)));
            let (intent, objects_text, except_text, container_text) = match (&matched, &previous) {
                (Some((intent, caps)), _) => (
                    *intent,
                    caps.name("objects").map(|m| m.as_str().to_string()),
                    caps.name("except").map(|m| m.as_str().to_string()),
                    caps.name("container").map(|m| m.as_str().to_string()),
                ),
                (None, Some((Intent::Put, container))) => (Intent::Put, Some(step.clone()), None, container.clone()),
                (None, _) => {
                    return Err(refuse(format!(
                        "I do not understand '{step}'; I can clear the table, put objects in a container, or pick one up"
                    )))
                }
            };
            previous = Some((intent, container_text.clone()));
            let present = on_table(scene, &moved);
            let container = self
                .container(container_text.as_deref(), scene)
                .map_err(refuse)?;
            let targets: Vec<String> = match intent {
                Intent::Clear => {
                    let except = match &except_text {
                        Some(e) => ground_list(e, lex, scene, &present).map_err(refuse)?,
                        None => Vec::new(),
                    };
                    present
                        .iter()
                        .map(|o| o.id.clone())
                        .filter(|id| !except.contains(id))
                        .collect()
                }
                Intent::Put | Intent::Pick => {
                    let objects = objects_text.as_deref().unwrap_or_default();
                    let (include, except) = split_except(objects);
                    let mut ids = ground_list(&include, lex, scene, &present).map_err(refuse)?;
                    if let Some(e) = except {
                        let drop = ground_list(&e, lex, scene, &present).map_err(refuse)?;
                        ids.retain(|id| !drop.contains(id));
                    }
                    ids
                }
            };
            if targets.is_empty() {
                return Err(refuse(format!("'{step}' leaves nothing to move")));
            }
            if intent == Intent::Pick {
                if targets.len() != 1 {
                    return Err(refuse(format!(
                        "the gripper holds one object at a time; '{step}' names {}",
                        targets.len()
                    )));
                }
                if n + 1 != steps.len() {
                    return Err(refuse(
                        "after picking an object up, say where to put it".into(),
                    ));
                }
                plan.steps.push(Skill::Pick {
                    object: targets[0].clone(),
                });
                continue;
            }
            for id in order_by_clearance(targets, scene, &present) {
                plan.steps.push(Skill::Pick { object: id.clone() });
                plan.steps.push(Skill::Place {
                    object: id.clone(),
                    into: container.id.clone(),
                });
                moved.insert(id);
            }
        }
        validate(&plan, scene)?;
        Ok(plan)
    }
}

fn split_except(text: &str) -> (String, Option<String>) {
    for sep in [
        " except ",
        " but not ",
        " other than ",
        " apart from ",
        " but ",
    ] {
        if let Some((a, b)) = text.split_once(sep) {
            return (a.trim().to_string(), Some(b.trim().to_string()));
        }
    }
    (text.to_string(), None)
}
