//! The threads an episode runs on and the channels between them.
//!
//! - The **control stage** owns the body, the controller and the safety filter: it checks each
//!   chunk the policy sends, then ticks the controller at the control rate, checks and sends every
//!   joint command, and reads the body's state back.
//! - The **agent stage** (the caller's thread, see [`crate::episode`]) runs perception, the
//!   planner and the policy, and decides when a skill is done.
//! - The **recorder stage** owns the episode observer (the MCAP recorder) so writing a log never
//!   delays a control tick.
//!
//! Under [`Pace::Lockstep`] the agent and control stages hand over to each other on every message
//! that matters (each waits for the other's answer), so an episode is as deterministic as the
//! single loop it replaces: same scenario, seed and code give bit-identical states and logs.
//! Under [`Pace::WallClock`] the control stage ticks on the wall clock whatever the agent does;
//! its watchdog holds the arm when the policy misses its deadline or the control stage itself
//! falls behind, and it measures how late each tick starts (jitter).

use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use nalgebra::Isometry3;
use serde::{Deserialize, Serialize};

use crate::clock::{LatencyHistogram, WallRate};
use crate::controller::Controller;
use crate::observer::{EpisodeObserver, Event, EventKind, PolicySample};
use crate::outcome::{Failure, FailureKind};
use crate::planner::Instruction;
use crate::robot::{Robot, RobotError};
use crate::safety::{Intervention, SafetyFilter};
use crate::smoothness::{JerkMeter, Smoothness};
use crate::types::{
    ActionChunk, ChunkSource, GripperCommand, JointCommand, Observation, Plan, SceneGraph, Skill,
};

/// How the stages keep time.
#[derive(Clone, Debug, Default)]
pub enum Pace {
    /// Robot time advances only when the agent has what the next tick needs (simulation).
    #[default]
    Lockstep,
    /// The control stage ticks on the wall clock (a real robot, or the simulator in real time).
    WallClock(WatchdogConfig),
}

/// Deadlines the wall-clock watchdog enforces.
#[derive(Clone, Debug)]
pub struct WatchdogConfig {
    /// Longest the policy may take (s), from the end of a chunk's executed part, to deliver the
    /// next chunk while a skill runs.
    pub policy_deadline_s: f64,
    /// Latest a control tick may start (s) before the arm is held: the control stage itself fell
    /// behind.
    pub control_deadline_s: f64,
    /// Longest the agent waits for the control stage to answer (s).
    pub control_answer_s: f64,
}

impl Default for WatchdogConfig {
    fn default() -> Self {
        Self {
            policy_deadline_s: 0.2,
            control_deadline_s: 0.05,
            control_answer_s: 1.0,
        }
    }
}

/// How late control ticks started on the wall clock.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ControlTiming {
    pub rate_hz: f64,
    pub ticks: u64,
    /// Lateness of a tick's start against its schedule (µs).
    pub late_p50_us: f64,
    pub late_p99_us: f64,
    pub late_max_us: f64,
    /// Ticks that started more than one period late.
    pub overruns: u64,
    /// Longest controller + safety + command + state read of one tick (µs).
    pub work_max_us: f64,
}

/// Agent to control stage.
pub(crate) enum ToControl {
    /// Check `chunk`, then run it for `ticks` control ticks and answer `ChunkDone`.
    Execute {
        skill: Skill,
        chunk: ActionChunk,
        ticks: usize,
        /// The chunk follows another of the same skill attempt: its hand-over jump is measured.
        handover: bool,
        /// Send the state every this many ticks within the chunk (for the policy's history).
        observe_every: Option<usize>,
        /// Send the state on ticks of the robot clock's grid that are multiples of this (samples).
        sample_every: Option<u64>,
    },
    /// Answer with the body's state now.
    Observe,
    /// Lockstep: the agent is done with the last `Tick`; go on.
    Continue,
    /// A skill attempt starts: the body is told (see `Robot::skill_started`).
    SkillStarted(Skill),
    /// A skill ended: the arm may rest on its last target; the watchdog disarms.
    Idle,
    /// The plan, for the body (see `Robot::plan_started`).
    PlanStarted(crate::types::Plan),
    /// The policy did not answer in time: hold the arm and answer with `Watchdog`, as when a
    /// chunk is late mid-motion (between skills no chunk runs, so no deadline would fire).
    Hold(String),
    Finish,
}

/// Control stage to agent.
pub(crate) enum FromControl {
    /// State within a chunk, for the policy (`observe`) and for samples (`sample`).
    Tick {
        obs: Observation,
        target: Isometry3<f64>,
        gripper_cmd_m: f64,
        observe: bool,
        sample: bool,
        /// Lockstep: the control stage waits for `Continue`.
        wait: bool,
    },
    ChunkDone(Observation),
    State(Observation),
    /// The safety filter stopped; the arm holds.
    SafetyStop(String),
    /// A stage missed its deadline; the arm holds.
    Watchdog(String),
    Failed(RobotError),
}

/// Observer calls as messages, for the recorder stage.
pub(crate) enum Record {
    Plan(f64, Instruction, Plan),
    Event(Event),
    Chunk(Skill, ActionChunk),
    Command(JointCommand),
    State(Observation),
    Sample {
        t: f64,
        skill: Skill,
        obs: Observation,
        scene: SceneGraph,
        target: Isometry3<f64>,
        gripper_cmd_m: f64,
        source: ChunkSource,
    },
}

/// The sending end of the recorder stage; a no-op without an observer.
#[derive(Clone)]
pub(crate) struct RecordLink(pub Option<Sender<Record>>);

impl RecordLink {
    pub fn send(&self, r: Record) {
        if let Some(tx) = &self.0 {
            // A recorder that died has already reported its error; the run goes on.
            let _ = tx.send(r);
        }
    }

    pub fn event(&self, t: f64, kind: EventKind, skill: Option<&Skill>, detail: Option<String>) {
        self.send(Record::Event(Event {
            t,
            kind,
            skill: skill.cloned(),
            attempt: None,
            success: None,
            failure: None,
            detail,
        }));
    }

    pub fn enabled(&self) -> bool {
        self.0.is_some()
    }
}

/// Runs the recorder stage until every sender is gone.
pub(crate) fn recorder_stage(observer: &mut (dyn EpisodeObserver + Send), rx: Receiver<Record>) {
    for r in rx {
        match r {
            Record::Plan(t, i, p) => observer.plan(t, &i, &p),
            Record::Event(e) => observer.event(&e),
            Record::Chunk(s, c) => observer.chunk(&s, &c),
            Record::Command(c) => observer.command(&c),
            Record::State(o) => observer.state(&o),
            Record::Sample {
                t,
                skill,
                obs,
                scene,
                target,
                gripper_cmd_m,
                source,
            } => observer.sample(&PolicySample {
                t,
                skill: &skill,
                obs: &obs,
                scene: &scene,
                target_in_base: target,
                gripper_command_m: gripper_cmd_m,
                source,
            }),
        }
    }
}

/// What the control stage owns.
pub(crate) struct ControlParts<'a> {
    pub robot: &'a mut (dyn Robot + Send),
    pub controller: &'a mut Controller,
    pub safety: &'a mut SafetyFilter,
}

/// A chunk being executed, as the control stage tracks it.
struct Running {
    skill: Skill,
    ticks_left: usize,
    ticks_done: usize,
    observe_every: Option<usize>,
    sample_every: Option<u64>,
    /// Robot time (s) by which the next chunk must arrive (wall clock only).
    deadline: Option<f64>,
}

/// What the control stage measured over an episode.
pub(crate) struct ControlResult {
    /// Wall-clock tick timing (none in lockstep).
    pub timing: Option<ControlTiming>,
    pub smoothness: Smoothness,
    pub safety_interventions: u64,
}

/// Runs the control stage until `Finish` or the agent hangs up.
pub(crate) fn control_stage(
    parts: ControlParts<'_>,
    pace: &Pace,
    rx: Receiver<ToControl>,
    tx: Sender<FromControl>,
    rec: RecordLink,
) -> ControlResult {
    let ControlParts {
        robot,
        controller,
        safety,
    } = parts;
    let dt = controller.config().dt;
    let mut stage = ControlStage {
        robot,
        controller,
        safety,
        tx,
        rec,
        dt,
        running: None,
        wall_clock: matches!(pace, Pace::WallClock(_)),
        last_sent: None,
        held: false,
        smoothness: Smoothness::default(),
        jerk: JerkMeter::new(0.0),
        interventions: 0,
    };
    let timing = match pace {
        Pace::Lockstep => {
            stage.run_lockstep(rx);
            None
        }
        Pace::WallClock(w) => Some(stage.run_wall_clock(rx, w)),
    };
    ControlResult {
        timing,
        smoothness: stage.smoothness,
        safety_interventions: stage.interventions,
    }
}

struct ControlStage<'a> {
    robot: &'a mut (dyn Robot + Send),
    controller: &'a mut Controller,
    safety: &'a mut SafetyFilter,
    tx: Sender<FromControl>,
    rec: RecordLink,
    dt: f64,
    running: Option<Running>,
    wall_clock: bool,
    /// The last command the body accepted.
    last_sent: Option<JointCommand>,
    /// After a stop the arm stays held until the run ends: no chunk moves it again.
    held: bool,
    smoothness: Smoothness,
    jerk: JerkMeter,
    /// Commands and chunks the safety filter changed (clamped, slowed) without stopping.
    interventions: u64,
}

/// What one tick came to.
enum TickEnd {
    /// Nothing to report.
    Quiet,
    /// A mid-chunk state went to the agent (lockstep waits for `Continue`).
    Sent,
    /// The chunk's executed part is done.
    Done,
    /// The arm is held after a stop; the agent has been told.
    Stopped,
}

impl ControlStage<'_> {
    fn run_lockstep(&mut self, rx: Receiver<ToControl>) {
        // Robot time only moves while a chunk runs; between chunks the stage waits on the agent.
        while let Ok(msg) = rx.recv() {
            if !self.handle(msg) {
                return;
            }
            while self.running.is_some() {
                match self.tick() {
                    TickEnd::Sent => match rx.recv() {
                        Ok(ToControl::Continue) => {}
                        Ok(other) => {
                            if !self.handle(other) {
                                return;
                            }
                        }
                        Err(_) => return,
                    },
                    TickEnd::Quiet => {}
                    TickEnd::Done | TickEnd::Stopped => self.running = None,
                }
            }
        }
    }

    fn run_wall_clock(&mut self, rx: Receiver<ToControl>, w: &WatchdogConfig) -> ControlTiming {
        let hz = 1.0 / self.dt;
        let mut rate = WallRate::new(hz);
        let mut late = LatencyHistogram::default();
        let mut overruns = 0;
        let mut work_max = Duration::ZERO;
        let period = rate.period();
        loop {
            let lateness = rate.wait();
            late.record(lateness);
            if lateness > period {
                overruns += 1;
            }
            let began = std::time::Instant::now();
            loop {
                match rx.try_recv() {
                    Ok(ToControl::Finish) | Err(crossbeam_channel::TryRecvError::Disconnected) => {
                        return timing(hz, late, overruns, work_max)
                    }
                    Ok(msg) => {
                        self.handle(msg);
                    }
                    Err(crossbeam_channel::TryRecvError::Empty) => break,
                }
            }
            if lateness.as_secs_f64() > w.control_deadline_s {
                self.watchdog(format!(
                    "control tick started {:.1} ms late (deadline {:.1} ms)",
                    lateness.as_secs_f64() * 1e3,
                    w.control_deadline_s * 1e3
                ));
            }
            if let Some(r) = &self.running {
                if r.deadline.is_some_and(|d| self.robot.now() > d) {
                    let skill = r.skill.clone();
                    self.watchdog(format!(
                        "no chunk from the policy within {:.0} ms of the last one's end ({skill})",
                        w.policy_deadline_s * 1e3
                    ));
                }
            }
            match self.tick() {
                TickEnd::Done => {
                    // Keep tracking the rest of the chunk (receding horizon) until the next
                    // one arrives; it must arrive before the deadline.
                    if let Some(r) = &mut self.running {
                        r.deadline = Some(self.robot.now() + w.policy_deadline_s);
                    }
                }
                TickEnd::Stopped => self.running = None,
                TickEnd::Quiet | TickEnd::Sent => {}
            }
            work_max = work_max.max(began.elapsed());
        }
    }

    /// Handles one message from the agent; `false` to end the stage.
    fn handle(&mut self, msg: ToControl) -> bool {
        match msg {
            ToControl::Finish => return false,
            ToControl::Continue => {}
            ToControl::SkillStarted(skill) => self.robot.skill_started(&skill),
            ToControl::Idle => {
                self.running = None;
                self.jerk.pause();
            }
            ToControl::PlanStarted(plan) => self.robot.plan_started(&plan),
            ToControl::Hold(reason) => {
                if self.held {
                    // Already held and told once; the agent waits for an answer all the same.
                    let _ = self.tx.send(FromControl::Watchdog(reason));
                } else {
                    self.watchdog(reason);
                }
            }
            ToControl::Observe => match self.robot.observe() {
                Ok(obs) => {
                    let _ = self.tx.send(FromControl::State(obs));
                }
                Err(e) => {
                    let _ = self.tx.send(FromControl::Failed(e));
                }
            },
            ToControl::Execute {
                skill,
                mut chunk,
                ticks,
                handover,
                observe_every,
                sample_every,
            } => {
                if self.held {
                    let _ = self.tx.send(FromControl::SafetyStop(
                        "the arm is held after an earlier stop".into(),
                    ));
                    return true;
                }
                match self
                    .safety
                    .check_chunk(&mut chunk, &self.controller.current_target())
                {
                    Ok(interventions) => self.report(&skill, interventions),
                    Err(stop) => {
                        self.stop(FromControl::SafetyStop(stop.reason));
                        return true;
                    }
                }
                if handover {
                    if let Some(jump) = self.controller.handover_jump_m(&chunk, self.robot.now()) {
                        self.smoothness.boundary_jumps_m.push(jump);
                    }
                }
                self.jerk.set_period(chunk.dt);
                self.rec.send(Record::Chunk(skill.clone(), chunk.clone()));
                self.controller.set_chunk(chunk);
                self.running = Some(Running {
                    skill,
                    ticks_left: ticks.max(1),
                    ticks_done: 0,
                    observe_every,
                    sample_every,
                    deadline: None,
                });
            }
        }
        true
    }

    /// One control tick: command, let robot time pass, read the state back.
    fn tick(&mut self) -> TickEnd {
        let now = self.robot.now();
        let mut cmd = if self.held {
            let mut c = self.safety.hold(&self.controller.tick(now));
            c.stamp = now;
            c
        } else {
            let cmd = self.controller.tick(now);
            self.jerk.push(
                now,
                self.controller.current_target().translation.vector,
                &mut self.smoothness,
            );
            cmd
        };
        // A held arm gets the hold command as it is: nothing left to filter.
        if !self.held {
            let skill = self.running.as_ref().map(|r| r.skill.clone());
            match self.safety.check_command(&mut cmd) {
                Ok(interventions) => {
                    if let Some(s) = &skill {
                        self.report(s, interventions);
                    }
                }
                Err(stop) => {
                    self.stop(FromControl::SafetyStop(stop.reason));
                    return TickEnd::Stopped;
                }
            }
        }
        if let Err(e) = self.robot.command(&cmd) {
            let _ = self.tx.send(FromControl::Failed(e));
            self.running = None;
            return TickEnd::Stopped;
        }
        self.last_sent = Some(cmd.clone());
        if let Err(e) = self.robot.advance(self.dt) {
            let _ = self.tx.send(FromControl::Failed(e));
            self.running = None;
            return TickEnd::Stopped;
        }
        let Some(r) = &mut self.running else {
            // Between chunks (wall clock) the state is still read: a body that stops answering
            // must be held.
            if self.wall_clock || self.rec.enabled() {
                return match self.read_state(&cmd) {
                    Some(_) => TickEnd::Quiet,
                    None => TickEnd::Stopped,
                };
            }
            return TickEnd::Quiet;
        };
        let past_executed = r.ticks_left == 0;
        if !past_executed {
            r.ticks_left -= 1;
            r.ticks_done += 1;
        }
        let last = !past_executed && r.ticks_left == 0;
        // On the robot clock's grid, so samples line up across skills.
        let grid = (self.robot.now() / self.dt).round() as u64;
        let sample = !past_executed && r.sample_every.is_some_and(|n| grid.is_multiple_of(n));
        // The state at the chunk's end goes to the next `act` instead.
        let observe =
            !last && !past_executed && r.observe_every.is_some_and(|n| r.ticks_done % n == 0);
        let needed = self.wall_clock || self.rec.enabled() || last || sample || observe;
        if !needed {
            return TickEnd::Quiet;
        }
        let Some(obs) = self.read_state(&cmd) else {
            return TickEnd::Stopped;
        };
        let mut end = TickEnd::Quiet;
        if sample || observe {
            let wait = !self.wall_clock && !last;
            let _ = self.tx.send(FromControl::Tick {
                obs: obs.clone(),
                target: self.controller.current_target(),
                gripper_cmd_m: cmd.gripper.width_m,
                observe,
                sample,
                wait,
            });
            if wait {
                end = TickEnd::Sent;
            }
        }
        if last {
            let _ = self.tx.send(FromControl::ChunkDone(obs));
            end = TickEnd::Done;
        }
        end
    }

    /// Reads the body's state after a tick and records it with the tick's command; `None` when
    /// the state is lost (the arm is then held and the agent told).
    fn read_state(&mut self, cmd: &JointCommand) -> Option<Observation> {
        match self.robot.observe() {
            Ok(obs) => {
                self.rec.send(Record::Command(cmd.clone()));
                if self.rec.enabled() {
                    self.rec.send(Record::State(obs.clone()));
                }
                Some(obs)
            }
            Err(e) => {
                self.rec.send(Record::Command(cmd.clone()));
                if !self.held {
                    let reason = e.to_string();
                    tracing::warn!(%reason, "robot state lost; holding");
                    self.stop(FromControl::Failed(e));
                }
                None
            }
        }
    }

    fn report(&mut self, skill: &Skill, interventions: Vec<Intervention>) {
        self.interventions += interventions.len() as u64;
        for i in interventions {
            self.rec.event(
                self.robot.now(),
                EventKind::SafetyIntervention,
                Some(skill),
                Some(i.reason),
            );
        }
    }

    /// Holds the arm where it is and tells the agent why (once: later stops only hold).
    fn stop(&mut self, why: FromControl) {
        let first = !self.held;
        self.held = true;
        self.running = None;
        self.jerk.pause();
        let t = self.robot.now();
        // Where the arm is, or, when its state cannot be read, the last command sent; the
        // filter's hold replaces the positions with the last safe ones and zeroes velocities.
        let here = match self.robot.observe() {
            Ok(obs) => Some(JointCommand {
                stamp: t,
                positions: obs.joints.position.clone(),
                velocities: vec![0.0; obs.joints.position.len()],
                gripper: GripperCommand {
                    width_m: obs.gripper.width_m,
                    max_force_n: 0.0,
                },
            }),
            Err(_) => self.last_sent.clone(),
        };
        if let Some(here) = here {
            let mut cmd = self.safety.hold(&here);
            cmd.stamp = t;
            if self.robot.command(&cmd).is_ok() {
                self.rec.send(Record::Command(cmd.clone()));
                self.last_sent = Some(cmd);
            }
        }
        if first {
            // The instant the arm was held, from the stage that held it.
            let reason = match &why {
                FromControl::SafetyStop(r) | FromControl::Watchdog(r) => r.clone(),
                FromControl::Failed(e) => e.to_string(),
                _ => String::new(),
            };
            self.rec.event(t, EventKind::Hold, None, Some(reason));
            let _ = self.tx.send(why);
        }
    }

    fn watchdog(&mut self, reason: String) {
        if self.held {
            return;
        }
        // The `hold` event records the instant; the agent logs `watchdog` with the skill.
        tracing::warn!(%reason, "watchdog: holding the arm");
        self.stop(FromControl::Watchdog(reason));
    }
}

fn timing(hz: f64, late: LatencyHistogram, overruns: u64, work_max: Duration) -> ControlTiming {
    ControlTiming {
        rate_hz: hz,
        ticks: late.count(),
        late_p50_us: late.percentile_us(50.0),
        late_p99_us: late.percentile_us(99.0),
        late_max_us: late.percentile_us(100.0),
        overruns,
        work_max_us: work_max.as_secs_f64() * 1e6,
    }
}

/// The agent's end of the control stage.
pub(crate) struct ControlLink {
    pub tx: Sender<ToControl>,
    pub rx: Receiver<FromControl>,
    /// How long to wait for an answer; `None` in lockstep (the control stage answers once its
    /// physics is done, however long that takes).
    pub answer_within: Option<Duration>,
    /// Robot time of the last state seen.
    pub now: f64,
}

/// Why the control stage could not go on.
#[derive(Debug)]
pub(crate) enum LinkError {
    Robot(RobotError),
    SafetyStop(String),
    Watchdog(String),
    /// The control stage did not answer in time or is gone.
    Stalled(String),
}

impl LinkError {
    /// The failure the episode stops with.
    pub fn failure(&self) -> Failure {
        match self {
            LinkError::SafetyStop(r) => {
                Failure::new(FailureKind::SafetyStop, format!("safety stop: {r}"))
            }
            LinkError::Watchdog(r) => Failure::new(FailureKind::Watchdog, format!("watchdog: {r}")),
            LinkError::Robot(e) => Failure::new(FailureKind::RobotError, format!("robot: {e}")),
            LinkError::Stalled(r) => Failure::new(FailureKind::Stalled, format!("stalled: {r}")),
        }
    }
}

impl ControlLink {
    pub fn send(&self, msg: ToControl) -> Result<(), LinkError> {
        self.tx
            .send(msg)
            .map_err(|_| LinkError::Stalled("the control stage has stopped".into()))
    }

    pub fn recv(&mut self) -> Result<FromControl, LinkError> {
        let msg = match self.answer_within {
            None => self
                .rx
                .recv()
                .map_err(|_| LinkError::Stalled("the control stage has stopped".into()))?,
            Some(d) => self.rx.recv_timeout(d).map_err(|e| match e {
                RecvTimeoutError::Timeout => LinkError::Stalled(format!(
                    "the control stage did not answer within {} ms",
                    d.as_millis()
                )),
                RecvTimeoutError::Disconnected => {
                    LinkError::Stalled("the control stage has stopped".into())
                }
            })?,
        };
        match msg {
            FromControl::SafetyStop(r) => Err(LinkError::SafetyStop(r)),
            FromControl::Watchdog(r) => Err(LinkError::Watchdog(r)),
            FromControl::Failed(e) => Err(LinkError::Robot(e)),
            FromControl::Tick { ref obs, .. }
            | FromControl::ChunkDone(ref obs)
            | FromControl::State(ref obs) => {
                self.now = obs.stamp;
                Ok(msg)
            }
        }
    }

    /// The body's state now.
    pub fn observe(&mut self) -> Result<Observation, LinkError> {
        self.send(ToControl::Observe)?;
        loop {
            // Wall clock: a chunk's late `Tick`s may still be queued ahead of the answer.
            if let FromControl::State(obs) = self.recv()? {
                return Ok(obs);
            }
        }
    }
}
