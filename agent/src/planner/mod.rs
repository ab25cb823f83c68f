//! Planners turn an instruction and a scene into a validated plan of skills.
//!
//! [`EmbeddedPlanner`] reads instructions offline with a grammar kept as data
//! (`grammar.toml`): `text` splits a request into words, `screen` refuses anything unsafe in
//! it as a whole, `parse` reads clauses, `refs` grounds references in the scene graph. The
//! [`VlmPlanner`] asks a remote model, after the same screen. Every planner's output goes
//! through [`validate`].

mod acts;
mod answer;
mod embedded;
mod grammar;
mod parse;
mod refs;
mod refusal;
mod restate;
mod screen;
mod speech;
mod spelling;
mod text;
#[cfg(feature = "vlm")]
mod vlm;
mod wordnet;

pub use answer::{read_answer, Answer};
pub use embedded::EmbeddedPlanner;
pub use grammar::GrammarError;
pub use refusal::{Refusal, RefusalKind};
#[cfg(feature = "vlm")]
pub use vlm::{VlmConfig, VlmPlanner};

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::types::{CameraFrame, Constraint, Plan, SceneGraph, Skill, KEEP_AWAY_MARGIN_MAX_M};

/// A task in plain language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instruction {
    pub text: String,
}

impl Instruction {
    pub fn new(text: impl Into<String>) -> Self {
        Self { text: text.into() }
    }
}

#[derive(Debug, Error, PartialEq)]
pub enum PlanError {
    /// The planner will not do it: unsafe, out of scope, not understood, unclear, or not
    /// groundable in the scene (`kind` says which).
    #[error("cannot plan '{instruction}': {reason}")]
    Refused {
        instruction: String,
        reason: String,
        kind: RefusalKind,
    },
    /// The plan breaks a rule every plan must keep ([`validate`]).
    #[error("invalid plan: {0}")]
    Invalid(String),
    /// The planner could not be asked (a planner server down, an answer that never came or
    /// could not be read). Not a refusal: the same instruction may plan later.
    #[error("planner unavailable: {0}")]
    Unavailable(String),
}

impl PlanError {
    pub fn refused(instruction: &Instruction, r: Refusal) -> Self {
        PlanError::Refused {
            instruction: instruction.text.clone(),
            reason: r.reason,
            kind: r.kind,
        }
    }

    /// The kind of refusal, if this is one.
    pub fn refusal_kind(&self) -> Option<RefusalKind> {
        match self {
            PlanError::Refused { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    /// The failure an episode that could not plan ends with.
    pub fn failure(&self) -> crate::outcome::Failure {
        use crate::outcome::{Failure, FailureKind};
        let kind = match self {
            PlanError::Refused { .. } => FailureKind::PlanRefused,
            PlanError::Invalid(_) => FailureKind::PlanInvalid,
            PlanError::Unavailable(_) => FailureKind::PlannerUnavailable,
        };
        Failure::new(kind, self.to_string())
    }
}

pub trait Planner: Send + Sync {
    fn plan(
        &self,
        instruction: &Instruction,
        scene: &SceneGraph,
        image: Option<&CameraFrame>,
    ) -> Result<Plan, PlanError>;
}

/// Checks a plan against the scene: every object and container exists, each object is picked
/// before it is placed, the gripper holds one object at a time, and nothing is moved twice.
pub fn validate(plan: &Plan, scene: &SceneGraph) -> Result<(), PlanError> {
    let mut holding: Option<&str> = None;
    let mut done: HashSet<&str> = HashSet::new();
    for (i, step) in plan.steps.iter().enumerate() {
        let n = i + 1;
        let object = step.object();
        if scene.object(object).is_none() {
            return Err(PlanError::Invalid(format!(
                "step {n} ({step}): no object '{object}' in the scene"
            )));
        }
        match step {
            Skill::Pick { object } => {
                if let Some(h) = holding {
                    return Err(PlanError::Invalid(format!(
                        "step {n} ({step}): the gripper still holds '{h}'"
                    )));
                }
                if done.contains(object.as_str()) {
                    return Err(PlanError::Invalid(format!(
                        "step {n} ({step}): '{object}' was already moved"
                    )));
                }
                holding = Some(object);
            }
            Skill::Place { object, into } => {
                if holding != Some(object.as_str()) {
                    return Err(PlanError::Invalid(format!(
                        "step {n} ({step}): '{object}' is not in the gripper"
                    )));
                }
                if scene.container(into).is_none() {
                    return Err(PlanError::Invalid(format!(
                        "step {n} ({step}): no container '{into}'"
                    )));
                }
                holding = None;
                done.insert(object);
            }
        }
    }
    // A plan may end holding one object ("pick up the cup").
    for (i, c) in plan.constraints.iter().enumerate() {
        let n = i + 1;
        match c {
            Constraint::KeepAway { object, margin_m } => {
                if scene.object(object).is_none() {
                    return Err(PlanError::Invalid(format!(
                        "constraint {n} ({c}): no object '{object}' in the scene"
                    )));
                }
                if !(0.0..=KEEP_AWAY_MARGIN_MAX_M).contains(margin_m) {
                    return Err(PlanError::Invalid(format!(
                        "constraint {n}: a keep-away margin of {margin_m} m for '{object}' is \
                         outside 0-{KEEP_AWAY_MARGIN_MAX_M} m"
                    )));
                }
                if let Some(step) = plan.steps.iter().find(|s| s.object() == object) {
                    return Err(PlanError::Invalid(format!(
                        "constraint {n} ({c}) contradicts the step '{step}': the hand must \
                         touch what it moves"
                    )));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Container, SceneObject, ShapeKind};
    use nalgebra::{Isometry3, Vector3};

    /// Two cubes ("a", "b") and a bin: the scene the planner's rules are tested on.
    pub(super) fn scene() -> SceneGraph {
        let obj = |id: &str, x: f64| SceneObject {
            id: id.into(),
            class: "cube".into(),
            color: "red".into(),
            shape: ShapeKind::Box,
            pose_in_base: Isometry3::translation(x, 0.0, 0.025),
            extents: Vector3::new(0.05, 0.05, 0.05),
        };
        SceneGraph {
            stamp: 0.0,
            objects: vec![obj("a", 0.6), obj("b", 0.4)],
            containers: vec![Container {
                id: "bin".into(),
                class: "bin".into(),
                pose_in_base: Isometry3::translation(0.0, -0.5, 0.0),
                inner_extents: Vector3::new(0.3, 0.2, 0.1),
            }],
            table_height_m: 0.0,
        }
    }

    #[test]
    fn clear_the_table_picks_and_places_everything() {
        let plan = EmbeddedPlanner::default()
            .plan(&Instruction::new("Clear the table."), &scene(), None)
            .unwrap();
        assert_eq!(plan.steps.len(), 4);
        let picked: HashSet<&str> = plan.steps.iter().step_by(2).map(|s| s.object()).collect();
        assert_eq!(picked, HashSet::from(["a", "b"]));
    }

    /// Crowded objects wait until their neighbours are gone; something resting on an object is
    /// always taken off first.
    #[test]
    fn picks_the_most_accessible_object_first() {
        let mut s = scene();
        let mut near = s.objects[0].clone();
        near.id = "c".into();
        near.pose_in_base = Isometry3::translation(0.6, 0.06, 0.025);
        s.objects.push(near);
        let mut on_top = s.objects[1].clone();
        on_top.id = "d".into();
        on_top.pose_in_base = Isometry3::translation(0.4, 0.0, 0.075);
        s.objects.push(on_top);
        let mut free = s.objects[0].clone();
        free.id = "e".into();
        free.pose_in_base = Isometry3::translation(0.5, 0.3, 0.025);
        s.objects.push(free);
        let plan = EmbeddedPlanner::default()
            .plan(&Instruction::new("clear the table"), &s, None)
            .unwrap();
        let order: Vec<&str> = plan.steps.iter().step_by(2).map(|s| s.object()).collect();
        let pos = |id| order.iter().position(|o| *o == id).unwrap();
        // The lone object first; the crowded pair (a, c: 1 cm apart) only after it.
        assert_eq!(order[0], "e", "{order:?}");
        assert!(pos("a") > pos("e") && pos("c") > pos("e"), "{order:?}");
        assert!(pos("d") < pos("b"), "{order:?}");
    }

    #[test]
    fn refuses_what_it_does_not_understand() {
        let err = EmbeddedPlanner::default()
            .plan(&Instruction::new("throw the cube"), &scene(), None)
            .unwrap_err();
        assert!(matches!(err, PlanError::Refused { .. }));
    }

    #[test]
    fn validation_catches_bad_plans() {
        let s = scene();
        let place_first = Plan {
            steps: vec![Skill::Place {
                object: "a".into(),
                into: "bin".into(),
            }],
            ..Default::default()
        };
        assert!(validate(&place_first, &s).is_err());
        let unknown = Plan {
            steps: vec![Skill::Pick {
                object: "zzz".into(),
            }],
            ..Default::default()
        };
        assert!(validate(&unknown, &s)
            .unwrap_err()
            .to_string()
            .contains("zzz"));
        let twice = Plan {
            steps: vec![
                Skill::Pick { object: "a".into() },
                Skill::Place {
                    object: "a".into(),
                    into: "bin".into(),
                },
                Skill::Pick { object: "a".into() },
                Skill::Place {
                    object: "a".into(),
                    into: "bin".into(),
                },
            ],
            ..Default::default()
        };
        assert!(validate(&twice, &s).is_err());
        let no_bin = Plan {
            steps: vec![
                Skill::Pick { object: "a".into() },
                Skill::Place {
                    object: "a".into(),
                    into: "box".into(),
                },
            ],
            ..Default::default()
        };
        assert!(validate(&no_bin, &s).is_err());
        // Constraints: the object exists, the margin is sane, and no step moves it.
        let pick_a = vec![Skill::Pick { object: "a".into() }];
        let with = |c: Constraint| Plan {
            steps: pick_a.clone(),
            constraints: vec![c],
        };
        assert!(validate(&with(Constraint::keep_away("b")), &s).is_ok());
        let e = validate(&with(Constraint::keep_away("zzz")), &s).unwrap_err();
        assert!(e.to_string().contains("constraint 1") && e.to_string().contains("zzz"));
        let e = validate(&with(Constraint::keep_away("a")), &s).unwrap_err();
        assert!(e.to_string().contains("contradicts"), "{e}");
        for margin_m in [-0.01, 0.5, f64::NAN] {
            let c = Constraint::KeepAway {
                object: "b".into(),
                margin_m,
            };
            assert!(validate(&with(c), &s).is_err(), "{margin_m}");
        }
    }
}
