//! A language model's answer, read as untrusted data: the JSON form it must take, and the
//! check that turns it into a plan, a refusal or an invalid answer. Apart from the HTTP client
//! (`vlm.rs`, feature `vlm`) so that anything holding a model's text can check it.

use serde::Deserialize;

use super::validate;
use crate::types::{Plan, SceneGraph, Skill};

/// What the model must answer: a plan, or a refusal.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerJson {
    #[serde(default)]
    steps: Vec<Skill>,
    #[serde(default)]
    refuse: Option<String>,
}

/// What a model's answer comes to.
#[derive(Debug, PartialEq)]
pub enum Answer {
    /// A plan that passed [`validate`] against the scene.
    Plan(Plan),
    /// The model refused, with its reason.
    Refused(String),
    /// Not a plan: unreadable JSON, no steps, or a plan that breaks the rules (why).
    Invalid(String),
}

/// Reads a model's answer as untrusted data: only the closed set of skills parses, and a plan
/// is validated against the scene before it is believed.
pub fn read_answer(content: &str, scene: &SceneGraph) -> Answer {
    match serde_json::from_str::<AnswerJson>(content.trim()) {
        Err(e) => Answer::Invalid(format!(
            "the answer is not a plan in the required JSON form: {e}"
        )),
        Ok(AnswerJson {
            refuse: Some(reason),
            steps,
        }) if steps.is_empty() => Answer::Refused(reason),
        Ok(a) => {
            let plan = Plan { steps: a.steps };
            if plan.steps.is_empty() {
                Answer::Invalid("the plan has no steps".to_string())
            } else {
                match validate(&plan, scene) {
                    Ok(()) => Answer::Plan(plan),
                    Err(e) => Answer::Invalid(e.to_string()),
                }
            }
        }
    }
}
