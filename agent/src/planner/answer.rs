//! A language model's answer, read as untrusted data: the JSON form it must take, and the
//! check that turns it into a plan, a refusal or an invalid answer. Apart from the HTTP client
//! (`vlm.rs`, feature `vlm`) so that anything holding a model's text can check it.

use serde::Deserialize;

use super::validate;
use crate::types::{Constraint, Plan, SceneGraph, Skill};

/// What the model must answer: a plan, or a refusal.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerJson {
    #[serde(default)]
    steps: Vec<Skill>,
    /// Rules for the whole episode ("keep away from the cup"), validated like steps.
    #[serde(default)]
    constraints: Vec<Constraint>,
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
            ..
        }) if steps.is_empty() => Answer::Refused(reason),
        Ok(a) => {
            let plan = Plan {
                steps: a.steps,
                constraints: a.constraints,
            };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::planner::tests::scene;
    use crate::types::KEEP_AWAY_MARGIN_M;

    const STEPS: &str = r#""steps": [{"skill": "pick", "object": "a"}, {"skill": "place", "object": "a", "into": "bin"}]"#;

    /// A model's keep-away constraint is read, its margin defaulted, and checked like a step.
    #[test]
    fn constraints_in_an_answer_are_read_and_validated() {
        let s = scene();
        let ok = format!(r#"{{{STEPS}, "constraints": [{{"kind": "keep_away", "object": "b"}}]}}"#);
        match read_answer(&ok, &s) {
            Answer::Plan(p) => assert_eq!(
                p.constraints,
                vec![Constraint::KeepAway {
                    object: "b".into(),
                    margin_m: KEEP_AWAY_MARGIN_M
                }]
            ),
            other => panic!("{other:?}"),
        }
        for (bad, why) in [
            (r#"{"kind": "keep_away", "object": "a"}"#, "contradicts"),
            (r#"{"kind": "keep_away", "object": "zzz"}"#, "zzz"),
            (
                r#"{"kind": "keep_away", "object": "b", "margin_m": 2.0}"#,
                "margin",
            ),
            (r#"{"kind": "hover_over", "object": "b"}"#, "hover_over"),
            (r#"{"kind": "keep_away", "object": "b", "why": 1}"#, "why"),
        ] {
            let answer = format!(r#"{{{STEPS}, "constraints": [{bad}]}}"#);
            match read_answer(&answer, &s) {
                Answer::Invalid(e) => assert!(e.contains(why), "{bad}: {e}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
