//! Planners turn an instruction and a scene into a validated plan of skills.
//!
//! The foundation ships [`ClearTablePlanner`], which understands "clear the table"; the
//! instruction-grounding planner and the VLM planner build on the same trait and validation.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::types::{CameraFrame, Plan, SceneGraph, Skill};

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
    #[error("cannot plan '{instruction}': {reason}")]
    Refused { instruction: String, reason: String },
    #[error("invalid plan: {0}")]
    Invalid(String),
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
/// before it is placed, placed where it was picked from the gripper, and nothing is moved twice.
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
    if let Some(h) = holding {
        return Err(PlanError::Invalid(format!("the plan ends holding '{h}'")));
    }
    Ok(())
}

/// Understands "clear the table" (and "clear", "tidy up the table"): every object on the table
/// goes into the first container, the one nearest the container first.
#[derive(Clone, Debug, Default)]
pub struct ClearTablePlanner;

const CLEAR_PHRASES: &[&str] = &[
    "clear the table",
    "clear",
    "clear table",
    "tidy up",
    "tidy up the table",
    "clean the table",
];

impl Planner for ClearTablePlanner {
    fn plan(
        &self,
        instruction: &Instruction,
        scene: &SceneGraph,
        _image: Option<&CameraFrame>,
    ) -> Result<Plan, PlanError> {
        let text = instruction
            .text
            .trim()
            .trim_end_matches(['.', '!'])
            .to_lowercase();
        if !CLEAR_PHRASES.contains(&text.as_str()) {
            return Err(PlanError::Refused {
                instruction: instruction.text.clone(),
                reason: "the built-in planner only understands \"clear the table\" so far".into(),
            });
        }
        let Some(bin) = scene.containers.first() else {
            return Err(PlanError::Refused {
                instruction: instruction.text.clone(),
                reason: "there is no container to put things in".into(),
            });
        };
        let bin_xy = bin.pose_in_base.translation.vector.xy();
        let mut objects: Vec<_> = scene
            .objects
            .iter()
            .filter(|o| !bin.contains(&o.pose_in_base.translation.vector.into(), 0.0, 0.05))
            // Whatever fell off the table is beyond the arm; the report names it.
            .filter(|o| o.pose_in_base.translation.z > scene.table_height_m - 0.02)
            .collect();
        objects.sort_by(|a, b| {
            let da = (a.pose_in_base.translation.vector.xy() - bin_xy).norm();
            let db = (b.pose_in_base.translation.vector.xy() - bin_xy).norm();
            da.total_cmp(&db).then_with(|| a.id.cmp(&b.id))
        });
        let mut plan = Plan::default();
        for o in objects {
            plan.steps.push(Skill::Pick {
                object: o.id.clone(),
            });
            plan.steps.push(Skill::Place {
                object: o.id.clone(),
                into: bin.id.clone(),
            });
        }
        validate(&plan, scene)?;
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Container, SceneObject, ShapeKind};
    use nalgebra::{Isometry3, Vector3};

    fn scene() -> SceneGraph {
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
    fn clear_the_table_picks_and_places_everything_nearest_first() {
        let plan = ClearTablePlanner
            .plan(&Instruction::new("Clear the table."), &scene(), None)
            .unwrap();
        assert_eq!(plan.steps.len(), 4);
        assert_eq!(plan.steps[0], Skill::Pick { object: "b".into() });
        assert_eq!(
            plan.steps[3],
            Skill::Place {
                object: "a".into(),
                into: "bin".into()
            }
        );
    }

    #[test]
    fn refuses_what_it_does_not_understand() {
        let err = ClearTablePlanner
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
        };
        assert!(validate(&place_first, &s).is_err());
        let unknown = Plan {
            steps: vec![Skill::Pick {
                object: "zzz".into(),
            }],
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
        };
        assert!(validate(&no_bin, &s).is_err());
    }
}
