//! The live feed: an episode observer that hands a viewer every control tick, paced by the
//! viewer's play/pause and speed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use embody_agent::observer::{EpisodeObserver, Event};
use embody_agent::types::{ActionChunk, JointCommand, Observation, Plan, Skill};
use embody_agent::Instruction;
use nalgebra::Isometry3;

use super::*;

/// Play/pause and speed, shared by a viewer and the episode it watches.
#[derive(Debug)]
pub struct PlaybackControl {
    speed_bits: AtomicU64,
    paused: AtomicBool,
    /// The viewer is gone: run the rest unpaced.
    closed: AtomicBool,
}

impl PlaybackControl {
    pub fn new(speed: f64) -> Self {
        Self {
            speed_bits: AtomicU64::new(speed.to_bits()),
            paused: AtomicBool::new(false),
            closed: AtomicBool::new(false),
        }
    }
    pub fn speed(&self) -> f64 {
        f64::from_bits(self.speed_bits.load(Ordering::Relaxed))
    }
    pub fn set_speed(&self, speed: f64) {
        self.speed_bits
            .store(speed.clamp(1.0 / 64.0, 64.0).to_bits(), Ordering::Relaxed);
    }
    pub fn paused(&self) -> bool {
        self.paused.load(Ordering::Relaxed)
    }
    pub fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::Relaxed);
    }
    pub fn close(&self) {
        self.closed.store(true, Ordering::Relaxed);
    }
    pub fn closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }
}

/// An episode observer that feeds a viewer: every control tick's poses, the plan, events and
/// chunks, released so that simulated time advances at the viewer's speed and stops while it is
/// paused. Observers run on the episode's recorder thread, so the simulation itself is never
/// slowed: it runs ahead and the feed holds what the viewer has not reached yet.
pub struct LiveFeed {
    scene: Arc<SceneModel>,
    tx: Sender<ViewUpdate>,
    control: Arc<PlaybackControl>,
    /// Sim time and wall time at the last change of speed.
    anchor: Option<(f64, Instant, f64)>,
    last: Option<ViewFrame>,
}

impl LiveFeed {
    pub fn new(
        scene: Arc<SceneModel>,
        tx: Sender<ViewUpdate>,
        control: Arc<PlaybackControl>,
    ) -> Self {
        Self {
            scene,
            tx,
            control,
            anchor: None,
            last: None,
        }
    }

    fn send(&mut self, u: ViewUpdate) {
        if self.tx.send(u).is_err() {
            self.control.close();
        }
    }

    fn pace(&mut self, t: f64) {
        loop {
            if self.control.closed() {
                return;
            }
            if self.control.paused() {
                self.anchor = None;
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            let speed = self.control.speed();
            let (t0, wall0, _) = match self.anchor {
                Some(a) if a.2 == speed => a,
                _ => {
                    let a = (t, Instant::now(), speed);
                    self.anchor = Some(a);
                    a
                }
            };
            let due = wall0 + Duration::from_secs_f64(((t - t0) / speed).max(0.0));
            let now = Instant::now();
            if due <= now {
                return;
            }
            // Short sleeps, so a pause or a change of speed takes effect at once.
            std::thread::sleep((due - now).min(Duration::from_millis(20)));
        }
    }
}

impl EpisodeObserver for LiveFeed {
    fn plan(&mut self, t: f64, instruction: &Instruction, plan: &Plan) {
        self.send(ViewUpdate::Plan(PlanView {
            t,
            instruction: instruction.text.clone(),
            steps: plan.steps.clone(),
        }));
    }

    fn event(&mut self, event: &Event) {
        self.send(ViewUpdate::Event(event.clone()));
    }

    fn chunk(&mut self, skill: &Skill, chunk: &ActionChunk) {
        self.send(ViewUpdate::Chunk(ChunkView {
            t: chunk.start,
            dt: chunk.dt,
            skill: skill.clone(),
            targets: chunk
                .actions
                .iter()
                .map(|a| a.ee_target_in_base.translation.vector.into())
                .collect(),
            execute: chunk.execute,
        }));
    }

    fn command(&mut self, _cmd: &JointCommand) {}

    fn state(&mut self, obs: &Observation) {
        let joints: HashMap<String, f64> = obs
            .joints
            .names
            .iter()
            .cloned()
            .zip(obs.joints.position.iter().copied())
            .collect();
        let objects: HashMap<String, Isometry3<f64>> = obs
            .privileged
            .iter()
            .flatten()
            .map(|o| (o.id.clone(), o.pose_in_base))
            .collect();
        let frame = self.scene.frame(
            obs.stamp,
            &joints,
            obs.gripper.width_m,
            &objects,
            self.last.as_ref(),
        );
        self.last = Some(frame.clone());
        self.send(ViewUpdate::Frame(frame));
        self.pace(obs.stamp);
    }
}
