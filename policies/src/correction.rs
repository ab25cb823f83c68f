//! Expert corrections, the data of DAgger-style rounds: a learned policy drives, and before each
//! of its chunks the scripted expert takes over with probability `takeover` and drives the rest
//! of the skill from wherever the learned policy has brought the arm. Its chunks are marked
//! [`ChunkSource::Correction`]: the expert's actions from states the learned policy reaches,
//! which demonstrations alone never show (the compounding-error problem of behaviour cloning).
//! `embody dataset` trains on the corrections of such a log and leaves the learned policy's own
//! chunks out.
//!
//! The expert plans from the arm's current state (it does so at every skill's start anyway:
//! the previous skill leaves the hand anywhere), so a takeover in the middle of a skill gives it
//! the same problem as a skill start with the hand somewhere unusual.

use embody_agent::types::{ActionChunk, ChunkSource, Constraint, Observation, SceneGraph, Skill};
use embody_agent::{Policy, PolicyError};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::scripted_expert::ScriptedExpert;

pub struct ExpertTakeover {
    learner: Box<dyn Policy>,
    expert: ScriptedExpert,
    takeover: f64,
    rng: ChaCha8Rng,
    /// The expert drives the current skill.
    expert_driving: bool,
}

impl ExpertTakeover {
    /// `takeover`: the probability, before each of the learner's chunks, that the expert takes
    /// the rest of the skill (0: never, 1: at once). `seed` makes the takeovers reproducible.
    pub fn new(learner: Box<dyn Policy>, expert: ScriptedExpert, takeover: f64, seed: u64) -> Self {
        Self {
            learner,
            expert,
            takeover: takeover.clamp(0.0, 1.0),
            // Its own stream: the takeovers do not shift any other random draw of the episode.
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x7a6b_0c0e_dda9_9e55),
            expert_driving: false,
        }
    }
}

impl Policy for ExpertTakeover {
    fn reset(&mut self) {
        self.learner.reset();
        self.expert.reset();
        self.expert_driving = false;
    }

    fn observation_period(&self) -> Option<f64> {
        self.learner.observation_period()
    }

    /// Both drivers steer by them, or the answer is no.
    fn constrain(&mut self, constraints: &[Constraint]) -> bool {
        let learner = self.learner.constrain(constraints);
        self.expert.constrain(constraints) && learner
    }

    fn observe(&mut self, obs: &Observation, scene: &SceneGraph, skill: &Skill) {
        self.learner.observe(obs, scene, skill);
    }

    /// Perception decides when the learner's skills are done; the expert's completing chunk
    /// still ends a skill it drives (the agent checks the goal then too).
    fn marks_completion(&self) -> bool {
        false
    }

    fn act(
        &mut self,
        obs: &Observation,
        scene: &SceneGraph,
        skill: &Skill,
    ) -> Result<ActionChunk, PolicyError> {
        if !self.expert_driving && self.rng.random::<f64>() < self.takeover {
            self.expert_driving = true;
            self.expert.reset();
        }
        if !self.expert_driving {
            return self.learner.act(obs, scene, skill);
        }
        let mut chunk = self.expert.act(obs, scene, skill)?;
        chunk.source = ChunkSource::Correction;
        Ok(chunk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scripted_expert::ExpertConfig;

    /// A learner that counts its chunks and makes empty ones.
    struct Counting(std::sync::Arc<std::sync::atomic::AtomicUsize>);

    impl Policy for Counting {
        fn reset(&mut self) {}
        fn act(
            &mut self,
            obs: &Observation,
            _: &SceneGraph,
            _: &Skill,
        ) -> Result<ActionChunk, PolicyError> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(ActionChunk {
                start: obs.stamp,
                dt: 0.1,
                actions: Vec::new(),
                execute: 0,
                completes_skill: false,
                source: ChunkSource::Policy,
            })
        }
    }

    fn chunks_before_takeover(takeover: f64, seed: u64) -> usize {
        let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut p = ExpertTakeover::new(
            Box::new(Counting(n.clone())),
            ScriptedExpert::new(ExpertConfig::default()),
            takeover,
            seed,
        );
        let obs = Observation {
            stamp: 0.0,
            joints: embody_agent::types::JointState {
                names: Vec::new(),
                position: Vec::new(),
                velocity: Vec::new(),
                effort: Vec::new(),
                stamp: 0.0,
            },
            gripper: embody_agent::types::GripperState {
                width_m: 0.08,
                force_n: 0.0,
            },
            ee_in_base: nalgebra::Isometry3::identity(),
            camera: None,
            privileged: None,
        };
        let scene = SceneGraph::default();
        let skill = Skill::Pick {
            object: "cube".into(),
        };
        for _ in 0..1000 {
            if p.act(&obs, &scene, &skill).is_err() {
                // The expert took over (and refuses: the scene is empty).
                break;
            }
        }
        n.load(std::sync::atomic::Ordering::SeqCst)
    }

    #[test]
    fn takeover_probability_sets_how_long_the_learner_drives() {
        assert_eq!(chunks_before_takeover(1.0, 3), 0);
        assert_eq!(chunks_before_takeover(0.0, 3), 1000);
        let mean = (0..200)
            .map(|s| chunks_before_takeover(0.25, s))
            .sum::<usize>() as f64
            / 200.0;
        // Geometric: (1 - p) / p = 3 learner chunks on average.
        assert!(
            (2.2..3.8).contains(&mean),
            "mean learner chunks before takeover {mean}"
        );
        assert_eq!(
            chunks_before_takeover(0.25, 7),
            chunks_before_takeover(0.25, 7)
        );
    }
}
