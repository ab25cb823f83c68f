//! The run as a viewer steps through it: body poses per instant, the plan, events and action
//! chunks, and what the overlay says about them.

use embody_agent::log::OutcomeRecord;
use embody_agent::observer::{Event, EventKind};
use embody_agent::types::Skill;
use nalgebra::Isometry3;

/// Every body's pose at one instant, in [`SceneModel::bodies`] order.
#[derive(Clone, Debug)]
pub struct ViewFrame {
    pub t: f64,
    pub poses: Vec<Isometry3<f64>>,
}

/// A plan as the overlay lists it.
#[derive(Clone, Debug)]
pub struct PlanView {
    pub t: f64,
    pub instruction: String,
    pub steps: Vec<Skill>,
}

/// An action chunk's end-effector targets (base frame), for the trail.
#[derive(Clone, Debug)]
pub struct ChunkView {
    pub t: f64,
    pub dt: f64,
    pub skill: Skill,
    pub targets: Vec<[f64; 3]>,
    /// How many of the targets the agent executes before asking again.
    pub execute: usize,
}

/// Something for the timeline, from a running episode.
#[derive(Clone, Debug)]
pub enum ViewUpdate {
    Frame(ViewFrame),
    Plan(PlanView),
    Event(Event),
    Chunk(ChunkView),
    Outcome(Box<OutcomeRecord>),
    /// The episode could not run.
    Failed(String),
}

/// The whole run so far.
#[derive(Clone, Debug, Default)]
pub struct Timeline {
    pub frames: Vec<ViewFrame>,
    pub plans: Vec<PlanView>,
    pub events: Vec<Event>,
    pub chunks: Vec<ChunkView>,
    pub outcome: Option<OutcomeRecord>,
    pub failure: Option<String>,
}

impl Timeline {
    pub fn push(&mut self, update: ViewUpdate) {
        match update {
            // Frames arrive in time order; anything else would break the searches below.
            ViewUpdate::Frame(f) => {
                if self.frames.last().is_none_or(|l| f.t >= l.t) {
                    self.frames.push(f)
                }
            }
            ViewUpdate::Plan(p) => self.plans.push(p),
            ViewUpdate::Event(e) => self.events.push(e),
            ViewUpdate::Chunk(c) => self.chunks.push(c),
            ViewUpdate::Outcome(o) => self.outcome = Some(*o),
            ViewUpdate::Failed(m) => self.failure = Some(m),
        }
    }

    pub fn start(&self) -> f64 {
        self.frames.first().map_or(0.0, |f| f.t)
    }

    pub fn end(&self) -> f64 {
        self.frames.last().map_or(0.0, |f| f.t)
    }

    /// The last frame at or before `t` (the first one before the run starts).
    pub fn frame_at(&self, t: f64) -> Option<&ViewFrame> {
        let n = self.frames.partition_point(|f| f.t <= t);
        self.frames.get(n.saturating_sub(1))
    }

    /// The plan in force at `t`.
    pub fn plan_at(&self, t: f64) -> Option<&PlanView> {
        self.plans.iter().rev().find(|p| p.t <= t)
    }

    /// The skill running at `t`: the last started and not yet ended, with its attempt.
    pub fn skill_at(&self, t: f64) -> Option<(&Skill, usize)> {
        let mut current = None;
        for e in self.events.iter().take_while(|e| e.t <= t) {
            match e.kind {
                EventKind::SkillStart => {
                    current = e.skill.as_ref().map(|s| (s, e.attempt.unwrap_or(1)))
                }
                EventKind::SkillEnd => current = None,
                k if k.ends_episode() => current = None,
                _ => {}
            }
        }
        current
    }

    /// Index of the plan step running at `t`: the step of the current skill, counting skills
    /// that ended successfully before it (a plan may name a skill twice).
    pub fn step_at(&self, t: f64) -> Option<usize> {
        let plan = self.plan_at(t)?;
        let (skill, _) = self.skill_at(t)?;
        let done = self
            .events
            .iter()
            .filter(|e| {
                e.t >= plan.t
                    && e.t <= t
                    && e.kind == EventKind::SkillEnd
                    && e.success == Some(true)
            })
            .filter(|e| e.skill.as_ref() == Some(skill))
            .count();
        plan.steps
            .iter()
            .enumerate()
            .filter(|(_, s)| *s == skill)
            .nth(done)
            .map(|(i, _)| i)
    }

    /// Plan steps that ended successfully by `t`.
    pub fn steps_done(&self, t: f64) -> usize {
        let since = self.plan_at(t).map_or(0.0, |p| p.t);
        self.events
            .iter()
            .filter(|e| {
                e.t >= since && e.t <= t && e.kind == EventKind::SkillEnd && e.success == Some(true)
            })
            .count()
    }

    /// The chunk being executed at `t`.
    pub fn chunk_at(&self, t: f64) -> Option<&ChunkView> {
        let n = self.chunks.partition_point(|c| c.t <= t);
        let c = self.chunks.get(n.checked_sub(1)?)?;
        let horizon = c.t + c.dt * c.targets.len() as f64;
        (t <= horizon).then_some(c)
    }

    /// Events up to `t`, the latest last.
    pub fn events_until(&self, t: f64) -> &[Event] {
        let n = self.events.partition_point(|e| e.t <= t);
        &self.events[..n]
    }
}

/// A line for an event, as the overlay shows it.
pub fn describe_event(e: &Event) -> String {
    let skill = e.skill.as_ref().map(|s| s.to_string()).unwrap_or_default();
    let detail = e.detail.as_deref().unwrap_or("");
    let failure = e.failure.map(|k| format!(" [{k}]")).unwrap_or_default();
    match e.kind {
        EventKind::SkillStart => match e.attempt {
            Some(n) if n > 1 => format!("start {skill} (attempt {n})"),
            _ => format!("start {skill}"),
        },
        EventKind::SkillEnd if e.success == Some(true) => format!("done  {skill}"),
        EventKind::SkillEnd => format!("FAILED {skill}{failure}: {detail}"),
        EventKind::PlanRefused => format!("plan refused{failure}: {detail}"),
        EventKind::Stopped
        | EventKind::SafetyStop
        | EventKind::Watchdog
        | EventKind::RobotError
        | EventKind::Stalled => format!("STOPPED{failure}: {detail}"),
        EventKind::Replan | EventKind::SafetyIntervention | EventKind::Hold => {
            let name = serde_json::to_value(e.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            if detail.is_empty() {
                format!("{name} {skill}")
            } else {
                format!("{name} {skill}: {detail}")
            }
        }
    }
}
