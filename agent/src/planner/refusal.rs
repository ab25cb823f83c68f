//! Why a planner refuses a request, as a kind code can act on and a reason a person reads.

use serde::{Deserialize, Serialize};

/// What kind of refusal. A caller acts on the kind (an operator console greys out unsafe
/// requests, a test asserts that every unsafe request is refused as unsafe and not merely
/// misread); the reason says it in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalKind {
    /// Unsafe whatever the scene, or an attempt to change the rules: throwing, hitting,
    /// handing to people, floors, moving the table or a container, hurrying with someone in
    /// reach, switching off the emergency stop, prompt injection. Decided by the safety screen
    /// before the request is read (and again where the parser meets a container as an object).
    Unsafe,
    /// Understood, but not something the arm does: putting objects anywhere but in a
    /// container, holding two objects at once.
    OutOfScope,
    /// Words or a form the planner does not understand: rephrasing may help.
    NotUnderstood,
    /// Understood, but it does not say which objects ("the cup" among three), or what "it" is.
    Unclear,
    /// Understood, but the scene does not have what it names, or it leaves nothing to move.
    NotInScene,
    /// A remote model answered with a refusal of its own.
    ByModel,
}

impl RefusalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalKind::Unsafe => "unsafe",
            RefusalKind::OutOfScope => "out_of_scope",
            RefusalKind::NotUnderstood => "not_understood",
            RefusalKind::Unclear => "unclear",
            RefusalKind::NotInScene => "not_in_scene",
            RefusalKind::ByModel => "by_model",
        }
    }
}

/// A refusal inside a planner, before it names the instruction ([`super::PlanError::Refused`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub kind: RefusalKind,
    pub reason: String,
}

impl Refusal {
    pub fn new(kind: RefusalKind, reason: impl Into<String>) -> Self {
        Self {
            kind,
            reason: reason.into(),
        }
    }
    pub fn unsafe_(reason: impl Into<String>) -> Self {
        Self::new(RefusalKind::Unsafe, reason)
    }
    pub fn out_of_scope(reason: impl Into<String>) -> Self {
        Self::new(RefusalKind::OutOfScope, reason)
    }
    pub fn not_understood(reason: impl Into<String>) -> Self {
        Self::new(RefusalKind::NotUnderstood, reason)
    }
    pub fn unclear(reason: impl Into<String>) -> Self {
        Self::new(RefusalKind::Unclear, reason)
    }
    pub fn not_in_scene(reason: impl Into<String>) -> Self {
        Self::new(RefusalKind::NotInScene, reason)
    }
}
