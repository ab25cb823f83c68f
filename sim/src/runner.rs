//! Runs seeded episodes of a scenario in the simulator, one or many in parallel, and gathers
//! what happened. Results depend only on the scenario, the seeds and the code, never on the
//! number of threads.

use std::sync::Arc;
use std::time::Instant;

use std::collections::BTreeMap;
use std::path::PathBuf;

use embody_agent::episode::{run_episode, EpisodeConfig, EpisodeParts, EpisodeReport};
use embody_agent::log::{
    McapRecorder, OutcomeRecord, RecorderConfig, RecorderStats, ScenarioRecord,
};
use embody_agent::observer::EpisodeObserver;
use embody_agent::{
    CameraPerception, Controller, ControllerConfig, IkConfig, Instruction, ObjectOutcome,
    Perception, Planner, Policy, SafetyConfig, SafetyFilter, SimulatedPerception,
};
use serde::Serialize;

use crate::camera::CameraSpec;
use crate::contact_sheet::Snapshot;
use crate::scenario::Scenario;
use crate::sim_robot::SimRobot;
use crate::world::World;
use crate::SimError;

/// Outcome of one simulated episode.
#[derive(Clone, Debug, Serialize)]
pub struct EpisodeResult {
    pub seed: u64,
    pub success: bool,
    pub objects_cleared: usize,
    pub objects_total: usize,
    pub objects: Vec<ObjectOutcome>,
    pub report: EpisodeReport,
    pub sim_time_s: f64,
    pub sim_steps: u64,
    /// Objects disturbed during skills about other objects (moved more than 1 cm or tipped
    /// while resting on the table), by id.
    #[serde(default)]
    pub disturbed_objects: Vec<String>,
    /// The plan's keep-away constraints, measured: the hand's closest approach to each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keep_away: Vec<crate::clearance::Clearance>,
    /// Hex of the hash of all final body poses (bit-exact).
    pub state_hash: String,
    /// Wall-clock time this episode took (s); not part of the deterministic result.
    pub wall_s: f64,
    /// The MCAP log written for this episode, if asked for.
    pub log: Option<RecorderStats>,
    /// First and last camera image (RunOptions::snapshots), for contact sheets.
    #[serde(skip)]
    pub snapshots: Option<(Snapshot, Snapshot)>,
}

/// Where episode logs go.
#[derive(Clone, Debug)]
pub enum LogTarget {
    /// One file (one episode).
    File(PathBuf),
    /// One file per seed in this folder.
    Dir(PathBuf),
}

impl LogTarget {
    pub fn path_for(&self, scenario: &str, seed: u64) -> PathBuf {
        match self {
            LogTarget::File(p) => p.clone(),
            LogTarget::Dir(d) => d.join(format!("{scenario}_seed{seed:06}.mcap")),
        }
    }
}

/// Settings of the agent around the body, taken from the scenario unless overridden.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub instruction: Option<String>,
    pub max_attempts: usize,
    /// Fresh plans from the current scene after objects were given up.
    pub max_replans: usize,
    pub skill_timeout_s: f64,
    /// Record each episode as MCAP here.
    pub log: Option<LogTarget>,
    /// Overwrite existing logs.
    pub overwrite_logs: bool,
    /// Name of the policy, for the log's scenario record.
    pub policy_name: String,
    /// E-stop input of the safety filter.
    pub estop: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// Lockstep (deterministic, as fast as the machine allows) or wall clock (real time).
    pub pace: embody_agent::Pace,
    /// Render this camera before the episode and after it settles (for contact sheets).
    pub snapshots: Option<CameraSpec>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            instruction: None,
            max_attempts: 3,
            max_replans: 1,
            skill_timeout_s: 30.0,
            log: None,
            overwrite_logs: false,
            policy_name: "scripted".into(),
            estop: None,
            pace: embody_agent::Pace::Lockstep,
            snapshots: None,
        }
    }
}

/// The scene graph simulated perception reports at the start of an episode (what a planner sees).
pub fn initial_scene(
    scenario: &Arc<Scenario>,
    seed: u64,
) -> Result<embody_agent::SceneGraph, SimError> {
    use embody_agent::Robot;
    let world = World::new(scenario.clone(), seed)?;
    let mut perception = perception_for(scenario, &world, seed);
    let mut robot = SimRobot::new(world);
    let obs = robot
        .observe()
        .map_err(|e| SimError::Episode(e.to_string()))?;
    Ok(perception.perceive(&obs))
}

/// Camera perception when the scenario has a camera, else simulated perception (the
/// simulator's truth plus the scenario's noise).
fn perception_for(scenario: &Scenario, world: &World, seed: u64) -> Box<dyn Perception> {
    if scenario.cameras.is_empty() {
        Box::new(SimulatedPerception::new(
            world.object_infos(),
            world.containers.clone(),
            0.0,
            scenario.perception.position_noise_m,
            seed ^ 0x5eed_9e7c_e971_0000,
        ))
    } else {
        Box::new(CameraPerception::new(
            world.object_infos(),
            world.containers.clone(),
            0.0,
        ))
    }
}

/// The IK controller for the scenario's robot (control rate, limits, grip force, rest posture),
/// starting at `q_now` with the gripper at `gripper_width_m`.
pub fn controller_for(
    scenario: &Scenario,
    arm: embody_agent::ArmModel,
    q_now: &[f64],
    gripper_width_m: f64,
) -> Controller {
    Controller::new(
        arm,
        ControllerConfig {
            dt: 1.0 / scenario.robot.control_rate_hz,
            limit_scale: scenario.robot.limit_scale,
            grip_force_n: scenario.robot.grip_force_n,
            rest_posture: scenario.robot.home.clone(),
            ik: IkConfig {
                max_iterations: 30,
                ..IkConfig::default()
            },
        },
        q_now,
        gripper_width_m,
    )
}

/// Runs one episode of `scenario` with `seed`.
pub fn run_sim_episode(
    scenario: &Arc<Scenario>,
    seed: u64,
    policy: &mut dyn Policy,
    planner: &dyn Planner,
    opts: &RunOptions,
) -> Result<EpisodeResult, SimError> {
    run_sim_episode_watched(scenario, seed, policy, planner, opts, None)
}

/// [`run_sim_episode`] with one more observer besides the log (a viewer's feed).
pub fn run_sim_episode_watched(
    scenario: &Arc<Scenario>,
    seed: u64,
    policy: &mut dyn Policy,
    planner: &dyn Planner,
    opts: &RunOptions,
    watcher: Option<&mut (dyn EpisodeObserver + Send)>,
) -> Result<EpisodeResult, SimError> {
    let wall = Instant::now();
    let world = World::new(scenario.clone(), seed)?;
    let snapshot = |world: &World| -> Result<Option<Snapshot>, SimError> {
        let Some(spec) = &opts.snapshots else {
            return Ok(None);
        };
        let f = crate::camera::render(world, spec)?;
        Ok(Some(Snapshot {
            width: f.width,
            height: f.height,
            rgb: f.rgb,
        }))
    };
    let first_snapshot = snapshot(&world)?;
    let mut perception = perception_for(scenario, &world, seed);
    let arm = world.arm.clone();
    let control_dt = 1.0 / scenario.robot.control_rate_hz;
    let mut controller = controller_for(
        scenario,
        arm,
        &scenario.robot.home,
        world.max_gripper_width(),
    );
    let (lo, hi) = scenario.tcp_workspace();
    let mut safety = SafetyFilter::new(
        SafetyConfig::over_table(&world.arm, lo, hi, 0.0),
        world.arm.clone(),
        control_dt,
    );
    if let Some(flag) = &opts.estop {
        safety = safety.with_estop(flag.clone());
    }
    let initial = object_poses_by_id(&world);
    let mut robot = SimRobot::new(world);
    let instruction = opts
        .instruction
        .clone()
        .unwrap_or_else(|| scenario.instruction.clone());
    let mut recorder = match &opts.log {
        None => None,
        Some(target) => {
            let path = target.path_for(&scenario.name, seed);
            let names = RecorderConfig::for_robot(
                &robot.world.arm,
                &scenario.robot.controller,
                &scenario.robot.gripper_controller,
            );
            let mut r = McapRecorder::create(&path, opts.overwrite_logs, names)?;
            r.write_scenario(&ScenarioRecord {
                scenario_text: scenario.text.clone(),
                scenario_path: scenario.source.display().to_string(),
                urdf_text: robot.world.urdf_text.clone(),
                seed,
                instruction: instruction.clone(),
                policy: opts.policy_name.clone(),
                build: crate::build_info(),
                physics: serde_json::to_value(&scenario.physics).unwrap_or_default(),
            });
            Some(r)
        }
    };
    let cfg = EpisodeConfig {
        instruction: Instruction::new(instruction),
        time_limit_s: scenario.time_limit_s,
        skill_timeout_s: opts.skill_timeout_s,
        max_attempts: opts.max_attempts,
        max_replans: opts.max_replans,
        carry_lift_m: EpisodeConfig::DEMONSTRATED_CARRY_LIFT_M,
        place_clearance_m: EpisodeConfig::DEMONSTRATED_PLACE_CLEARANCE_M,
        pace: opts.pace.clone(),
    };
    let mut tee;
    let report = run_episode(
        EpisodeParts {
            robot: &mut robot,
            perception: perception.as_mut(),
            planner,
            policy,
            controller: &mut controller,
            safety: &mut safety,
            observer: match (recorder.as_mut(), watcher) {
                (None, None) => None,
                (Some(r), None) => Some(r as &mut (dyn EpisodeObserver + Send)),
                (None, Some(w)) => Some(w),
                (Some(r), Some(w)) => {
                    tee = Tee(r, w);
                    Some(&mut tee as &mut (dyn EpisodeObserver + Send))
                }
            },
        },
        &cfg,
    )
    .map_err(|e| SimError::Episode(e.to_string()))?;
    // Let everything come to rest before judging.
    let settle = (0.5 / robot.world.dt()).round() as u64;
    for _ in 0..settle {
        robot.world.step();
    }
    let world = &robot.world;
    let snapshots = first_snapshot.zip(snapshot(world)?);
    let Judgement {
        success,
        cleared,
        total,
        objects,
    } = judge(
        world,
        scenario,
        report.plan.as_ref(),
        report.plan_error.is_some(),
        &initial,
    );
    let mut result = EpisodeResult {
        seed,
        success,
        objects_cleared: cleared,
        objects_total: total,
        objects,
        disturbed_objects: robot.disturbance.disturbed(),
        keep_away: robot.clearance.clearances(),
        report,
        sim_time_s: world.time(),
        sim_steps: world.steps(),
        state_hash: format!("{:016x}", world.state_hash()),
        wall_s: 0.0,
        log: None,
        snapshots,
    };
    if let Some(mut r) = recorder {
        r.write_outcome(world.time(), &result.outcome_record());
        result.log = Some(r.finish()?);
    }
    result.wall_s = wall.elapsed().as_secs_f64();
    Ok(result)
}

impl EpisodeResult {
    /// The record a log ends with.
    pub fn outcome_record(&self) -> OutcomeRecord {
        OutcomeRecord {
            success: self.success,
            objects_cleared: self.objects_cleared,
            objects_total: self.objects_total,
            objects: self.objects.clone(),
            sim_time_s: self.sim_time_s,
            sim_steps: self.sim_steps,
            state_hash: self.state_hash.clone(),
            stopped: self.report.stopped.clone(),
            plan_error: self.report.plan_error.clone(),
        }
    }
}

/// Two observers as one: the first (the log) decides how often policy samples are taken.
struct Tee<'a>(
    &'a mut (dyn EpisodeObserver + Send),
    &'a mut (dyn EpisodeObserver + Send),
);

impl EpisodeObserver for Tee<'_> {
    fn plan(&mut self, t: f64, instruction: &Instruction, plan: &embody_agent::Plan) {
        self.0.plan(t, instruction, plan);
        self.1.plan(t, instruction, plan);
    }
    fn event(&mut self, event: &embody_agent::observer::Event) {
        self.0.event(event);
        self.1.event(event);
    }
    fn chunk(&mut self, skill: &embody_agent::Skill, chunk: &embody_agent::ActionChunk) {
        self.0.chunk(skill, chunk);
        self.1.chunk(skill, chunk);
    }
    fn command(&mut self, cmd: &embody_agent::JointCommand) {
        self.0.command(cmd);
        self.1.command(cmd);
    }
    fn state(&mut self, obs: &embody_agent::Observation) {
        self.0.state(obs);
        self.1.state(obs);
    }
    fn sample_period(&self) -> Option<f64> {
        self.0.sample_period()
    }
    fn sample(&mut self, sample: &embody_agent::observer::PolicySample<'_>) {
        self.0.sample(sample);
    }
}

/// How an episode ended, judged from the world's true state.
pub struct Judgement {
    pub success: bool,
    pub cleared: usize,
    pub total: usize,
    pub objects: Vec<ObjectOutcome>,
}

/// Every object's pose now, by id (for [`judge`], taken at the start).
pub fn object_poses_by_id(world: &World) -> BTreeMap<String, nalgebra::Isometry3<f64>> {
    world
        .object_poses()
        .into_iter()
        .map(|p| (p.id, p.pose_in_base))
        .collect()
}

/// The goal is what the plan set out to do: placed objects in their containers, a final pick
/// held, everything else left where it was: on the table, moved by at most 1 cm and not tipped
/// over (`disturbance::moved` against `initial`). Without a plan (refused), nothing should
/// move.
pub fn judge(
    world: &World,
    scenario: &Scenario,
    plan: Option<&embody_agent::Plan>,
    plan_refused: bool,
    initial: &BTreeMap<String, nalgebra::Isometry3<f64>>,
) -> Judgement {
    let goal = plan_goal(plan);
    let mut objects = world.object_outcomes(|id| goal.get(id).cloned());
    let now = object_poses_by_id(world);
    for o in &mut objects {
        if goal.contains_key(&o.id) || o.failure.is_some() {
            continue;
        }
        if let (Some(before), Some(after)) = (initial.get(&o.id), now.get(&o.id)) {
            if crate::disturbance::moved(before, after) {
                let shift = (after.translation.vector - before.translation.vector).norm();
                o.failure = Some(embody_agent::Failure::new(
                    embody_agent::FailureKind::Disturbed,
                    if shift > crate::disturbance::DISPLACED_M {
                        format!("was not to be moved, but moved {:.1} cm", shift * 100.0)
                    } else {
                        "was not to be moved, but tipped over".to_string()
                    },
                ));
            }
        }
    }
    let cleared = objects.iter().filter(|o| o.cleared).count();
    let total = goal.len();
    let collateral = objects
        .iter()
        .any(|o| !goal.contains_key(&o.id) && o.failure.is_some());
    let success = !plan_refused
        && !collateral
        && total > 0
        && (cleared as f64) >= (scenario.success.min_cleared_fraction * total as f64 - 1e-9);
    Judgement {
        success,
        cleared,
        total,
        objects,
    }
}

/// Object id -> where the plan means it to end: `Some(container)`, or `None` for held.
fn plan_goal(
    plan: Option<&embody_agent::Plan>,
) -> std::collections::BTreeMap<String, Option<String>> {
    let mut goal = std::collections::BTreeMap::new();
    for step in plan.map(|p| p.steps.as_slice()).unwrap_or_default() {
        match step {
            embody_agent::Skill::Pick { object } => {
                goal.insert(object.clone(), None);
            }
            embody_agent::Skill::Place { object, into } => {
                goal.insert(object.clone(), Some(into.clone()));
            }
        }
    }
    goal
}

/// Runs the episodes for `seeds` on `threads` worker threads (0 = all cores), calling
/// `on_done` as each finishes. Results come back in seed order. `make_policy` gets the
/// episode's seed (for a policy's own random draws).
pub fn run_batch<P, F>(
    scenario: &Arc<Scenario>,
    seeds: &[u64],
    threads: usize,
    make_policy: P,
    planner: &dyn Planner,
    opts: &RunOptions,
    on_done: F,
) -> Result<Vec<EpisodeResult>, SimError>
where
    P: Fn(u64) -> Result<Box<dyn Policy>, embody_agent::PolicyError> + Sync,
    F: Fn(&EpisodeResult) + Sync,
{
    Workers::new(threads)?.run_batch(scenario, seeds, make_policy, planner, opts, on_done)
}

/// Worker threads for batches of episodes, kept from one batch to the next. A soak
/// (`embody run --duration-s`) runs batch after batch; new threads for each would end while the
/// next ones start, and every thread alive at once takes its own malloc arena, which keeps its
/// high-water mark: the process's memory then steps up now and then (a 3-minute soak once grew
/// 16 % that way) without anything leaking.
pub struct Workers {
    pool: rayon::ThreadPool,
}

impl Workers {
    /// `threads` workers (0 = all cores).
    pub fn new(threads: usize) -> Result<Self, SimError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("embody-episode-{i}"))
            .build()
            .map_err(|e| SimError::Episode(format!("cannot start worker threads: {e}")))?;
        Ok(Self { pool })
    }

    /// [`run_batch`] on these workers.
    pub fn run_batch<P, F>(
        &self,
        scenario: &Arc<Scenario>,
        seeds: &[u64],
        make_policy: P,
        planner: &dyn Planner,
        opts: &RunOptions,
        on_done: F,
    ) -> Result<Vec<EpisodeResult>, SimError>
    where
        P: Fn(u64) -> Result<Box<dyn Policy>, embody_agent::PolicyError> + Sync,
        F: Fn(&EpisodeResult) + Sync,
    {
        use rayon::prelude::*;
        self.pool.install(|| {
            seeds
                .par_iter()
                .map(|seed| {
                    let mut policy = make_policy(*seed)
                        .map_err(|e| SimError::Episode(format!("cannot create the policy: {e}")))?;
                    let r = run_sim_episode(scenario, *seed, policy.as_mut(), planner, opts)?;
                    on_done(&r);
                    Ok(r)
                })
                .collect::<Result<Vec<_>, SimError>>()
        })
    }
}
