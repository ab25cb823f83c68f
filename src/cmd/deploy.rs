//! `embody deploy`: the agent loop on a robot over ROS 2, one run per table, and its bring-up
//! check.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Args;
use embody_agent::episode::{run_episode, EpisodeConfig, EpisodeParts};
use embody_agent::log::{McapRecorder, RecorderConfig, ScenarioRecord};
use embody_agent::observer::EpisodeObserver;
use embody_agent::{
    ArmModel, CameraPerception, Instruction, Pace, Robot, SafetyConfig, SafetyFilter,
    SimulatedPerception, WatchdogConfig,
};
use embody_ros::{RosConfig, RosRobot};
use serde_json::json;

use super::common::load_scenario;
use super::ros::RosArgs;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SceneInputArg {
    Json,
    Detections,
    Camera,
}

#[derive(Args)]
pub struct DeployArgs {
    /// The work cell: robot (URDF, control rate, home posture, limits) and table from a
    /// scenario file; objects and containers come from the scene topic.
    #[arg(long, default_value = "scenarios/table_clearing.toml")]
    pub cell: PathBuf,
    #[arg(long, required_unless_present = "check")]
    pub instruction: Option<String>,
    /// Bring-up check instead of a task: read the joint states, move the last joint out by
    /// --wiggle and back over 2 s, report what the robot did. Needs no scene.
    #[arg(long)]
    pub check: bool,
    /// Amplitude of the --check motion (rad).
    #[arg(long, default_value_t = 0.05)]
    pub wiggle: f64,
    #[command(flatten)]
    pub names: RosArgs,
    #[command(flatten)]
    pub security: super::security::SecurityArgs,
    #[command(flatten)]
    pub policy: super::common::PolicyArgs,
    #[command(flatten)]
    pub planner: super::common::PlannerArgs,
    #[command(flatten)]
    pub workspace: super::common::WorkspaceArgs,
    #[command(flatten)]
    pub arm: ArmSourceArgs,
    /// Where the scene comes from: `json` (embody's scene description and TF frames
    /// `object/<id>`) or `detections` (vision_msgs/Detection3DArray in the base frame on
    /// --detections-topic, from any 3-D detector; the containers from the cell, moved by
    /// detections with their ids) or `camera` (the scene description names the objects; their
    /// poses come from the robot's depth, instance segmentation (mono16) and CameraInfo under
    /// the camera namespace, through camera perception; the camera's pose is the cell's first
    /// `[[cameras]]` entry).
    #[arg(long, value_enum, default_value_t = SceneInputArg::Json)]
    pub scene_input: SceneInputArg,
    /// Joint states older than this hold the arm (ms).
    #[arg(long, default_value_t = 100.0)]
    pub stale_ms: f64,
    /// Longest the policy may be late with its next chunk before the watchdog holds the arm (ms).
    #[arg(long, default_value_t = 200.0)]
    pub policy_deadline_ms: f64,
    /// How long to wait for the robot's joint states and the scene (s).
    #[arg(long, default_value_t = 15.0)]
    pub wait_s: f64,
    /// Record the run as MCAP (with several runs: a folder, a file per run).
    #[arg(long)]
    pub log: Option<PathBuf>,
    #[arg(long)]
    pub force: bool,
    /// Print one JSON summary line last.
    #[arg(long)]
    pub json: bool,
    /// Runs, one per table: after each, wait for the cell to set a new table (`embody sim
    /// --ros --new-scene-when-done` does) and carry out the instruction again.
    #[arg(long, value_name = "N")]
    pub episodes: Option<u64>,
    /// A soak: start new runs (as with --episodes) until this many seconds have passed; the
    /// running one finishes first.
    #[arg(long, value_name = "S")]
    pub duration_s: Option<f64>,
}

/// Where the arm's description comes from: the cell's URDF, another file, or the robot.
#[derive(Args, Clone, Debug)]
pub struct ArmSourceArgs {
    /// The arm's URDF instead of the cell's `robot.urdf`.
    #[arg(long, value_name = "FILE", conflicts_with = "robot_description")]
    pub urdf: Option<PathBuf>,
    /// Read the URDF from the robot: the latched /robot_description topic that
    /// robot_state_publisher (or `embody sim --ros`) publishes.
    #[arg(long)]
    pub robot_description: bool,
    /// The chain's base link instead of the cell's `robot.base_link` (also the base frame).
    #[arg(long)]
    pub base_link: Option<String>,
    /// The TCP link instead of the cell's `robot.tcp_link`.
    #[arg(long)]
    pub tcp_link: Option<String>,
}

impl ArmSourceArgs {
    /// The arm and the URDF text it was read from (which a log records).
    fn load(
        &self,
        scenario: &embody_sim::Scenario,
        cfg: &RosConfig,
        wait: Duration,
    ) -> Result<(ArmModel, String)> {
        let (text, origin) = if self.robot_description {
            eprintln!(
                "waiting for the robot's description on {} ...",
                cfg.robot_description_topic
            );
            let text = embody_ros::description::robot_description(cfg, wait)?;
            (text, cfg.robot_description_topic.clone())
        } else {
            let path = self.urdf.clone().unwrap_or_else(|| scenario.urdf_path());
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read the arm's URDF {}", path.display()))?;
            (text, path.display().to_string())
        };
        let base = self
            .base_link
            .as_deref()
            .unwrap_or(&scenario.robot.base_link);
        let tcp = self.tcp_link.as_deref().unwrap_or(&scenario.robot.tcp_link);
        let arm = ArmModel::from_urdf_str(&text, &origin, base, tcp)
            .with_context(|| format!("cannot load the arm from {origin}"))?;
        if arm.dof() != scenario.robot.home.len() {
            bail!(
                "the arm from {origin} has {} joints but the cell {} describes a {}-joint arm                  (robot.home); pass the cell written for this robot with --cell",
                arm.dof(),
                scenario.source.display(),
                scenario.robot.home.len()
            );
        }
        Ok((arm, text))
    }
}

/// What stays the same from one run of a deployment to the next.
struct Cell<'a> {
    a: &'a DeployArgs,
    scenario: &'a embody_sim::Scenario,
    arm: &'a ArmModel,
    /// The URDF the arm was read from (recorded in each log).
    urdf_text: &'a str,
    /// The TCP workspace's corners (base frame, m).
    workspace: ([f64; 3], [f64; 3]),
    cfg: &'a RosConfig,
    policy_spec: &'a str,
    instruction: &'a str,
}

/// Where a deployment's scene comes from, with what each source needs from the cell.
enum SceneSource {
    Json,
    Detections(embody_ros::scene::CellGeometry),
    /// The camera's pose in the base frame.
    Camera(nalgebra::Isometry3<f64>),
}

impl SceneSource {
    fn of(a: &DeployArgs, scenario: &std::sync::Arc<embody_sim::Scenario>) -> Result<Self> {
        Ok(match a.scene_input {
            SceneInputArg::Json => Self::Json,
            SceneInputArg::Detections => {
                if a.episodes.is_some_and(|n| n > 1) || a.duration_s.is_some() {
                    bail!(
                        "--episodes and --duration-s wait for the cell's next table by the number \
                         in its scene description; with --scene-input detections there is none \
                         (use --scene-input json)"
                    );
                }
                // The containers as the cell file places them (seed 0 where it draws
                // placements).
                let world = embody_sim::World::new(scenario.clone(), 0)
                    .context("cannot build the cell's world")?;
                Self::Detections(embody_ros::scene::CellGeometry {
                    containers: world.containers.clone(),
                    table_height_m: 0.0,
                })
            }
            SceneInputArg::Camera => {
                let spec = scenario.cameras.first().with_context(|| {
                    format!(
                        "--scene-input camera needs the camera's pose in the base frame: the \
                         cell {} has no [[cameras]] entry",
                        scenario.source.display()
                    )
                })?;
                Self::Camera(spec.pose_in_base())
            }
        })
    }

    fn kind(&self) -> embody_ros::config::SceneInput {
        use embody_ros::config::SceneInput;
        match self {
            Self::Json => SceneInput::Json,
            Self::Detections(_) => SceneInput::Detections,
            Self::Camera(_) => SceneInput::Camera,
        }
    }

    fn subscribe(self, robot: &mut RosRobot) -> Result<()> {
        match self {
            Self::Json => {}
            Self::Detections(cell) => robot.read_detections(cell)?,
            Self::Camera(pose) => robot.read_camera(pose)?,
        }
        Ok(())
    }
}

/// How many runs: one unless asked for more; a soak without --episodes runs until its time is
/// up.
fn max_runs(a: &DeployArgs) -> Result<u64> {
    if let Some(d) = a.duration_s {
        if !(d.is_finite() && d > 0.0) {
            bail!("--duration-s must be a positive number of seconds, got {d}");
        }
    }
    if a.episodes == Some(0) {
        bail!("--episodes must be at least 1");
    }
    Ok(a.episodes
        .unwrap_or(if a.duration_s.is_some() { u64::MAX } else { 1 }))
}

pub fn deploy(a: DeployArgs) -> Result<ExitCode> {
    let scenario = load_scenario(&a.cell)?;
    let mut cfg = a.names.config_for(&scenario.robot);
    cfg.security = a.security.resolve("/embody/deploy")?;
    cfg.stale_after_s = a.stale_ms / 1e3;
    let control_dt = 1.0 / scenario.robot.control_rate_hz;
    cfg.point_horizon_s = control_dt;
    let workspace = a.workspace.resolve(&scenario)?;
    let (arm, urdf_text) = a
        .arm
        .load(&scenario, &cfg, Duration::from_secs_f64(a.wait_s))?;
    let mut cfg = cfg.for_arm(&arm);
    let max_runs = max_runs(&a)?;
    let source = SceneSource::of(&a, &scenario)?;
    cfg.scene_input = source.kind();
    let mut robot = RosRobot::connect(cfg.clone(), arm.clone())?;
    if a.check {
        return check(&a, &cfg, &mut robot, arm, control_dt);
    }
    let instruction = a.instruction.clone().unwrap_or_default();
    source.subscribe(&mut robot)?;
    let several = max_runs > 1;
    eprintln!(
        "waiting for {} and the scene on domain {} ...",
        cfg.joint_states_topic, cfg.domain_id
    );
    robot.wait_ready(Duration::from_secs_f64(a.wait_s), true)?;

    // A deployment's scenario describes the robot, not the task: no default policy from it.
    let mut policy_args = a.policy.clone();
    policy_args.policy_domain_id = policy_args.policy_domain_id.or(Some(cfg.domain_id));
    policy_args.policy_security = Some(cfg.security.clone());
    let (policy_spec, policies) = policy_args.resolve(None)?;
    // A remote policy gives up on a chunk only after the watchdog has held the arm.
    let policies =
        policies.with_answer_within(Duration::from_secs_f64(a.policy_deadline_ms / 1e3 + 0.5));
    let mut policy = policies.make().map_err(anyhow::Error::msg)?;
    let planner = super::common::make_planner(&a.planner)?;
    let cell = Cell {
        a: &a,
        scenario: &scenario,
        arm: &arm,
        urdf_text: &urdf_text,
        workspace,
        cfg: &cfg,
        policy_spec: &policy_spec,
        instruction: &instruction,
    };
    let started = std::time::Instant::now();
    let mut runs = Vec::new();
    for k in 0..max_runs {
        if a.duration_s
            .is_some_and(|d| started.elapsed().as_secs_f64() >= d)
        {
            break;
        }
        if k > 0 {
            let last = robot.scene().and_then(|s| s.episode);
            robot.wait_new_scene(last, Duration::from_secs_f64(a.wait_s))?;
        }
        let log = a.log.as_ref().map(|p| {
            if several {
                p.join(format!("run-{k:04}.mcap"))
            } else {
                p.clone()
            }
        });
        if let (true, Some(dir)) = (several, &a.log) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the log folder {}", dir.display()))?;
        }
        let mut summary = run_table(&cell, &mut robot, policy.as_mut(), planner.as_ref(), log)?;
        summary["policy_server"] = json!(policies.remote_stats());
        if several {
            eprintln!(
                "run {k}: {}",
                if summary["ok"] == true {
                    "ok"
                } else {
                    "not ok"
                }
            );
        }
        // Several runs (a soak may make thousands) keep each run's outcome, not its skills and
        // timing: the whole summary was published as the "finished" status already.
        runs.push(if several { brief(&summary) } else { summary });
    }
    let ok = !runs.is_empty() && runs.iter().all(|r| r["ok"] == true);
    if a.json {
        let line = if several {
            json!({
                "ok": ok,
                "runs": runs.len(),
                "runs_ok": runs.iter().filter(|r| r["ok"] == true).count(),
                "wall_s": started.elapsed().as_secs_f64(),
                "dropped_messages": robot.dropped().by_topic(),
                "per_run": runs,
            })
        } else {
            runs.pop().unwrap_or_default()
        };
        println!("{line}");
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// What a run of many keeps of one run's summary for the final JSON.
fn brief(summary: &serde_json::Value) -> serde_json::Value {
    let skills = summary["skills"].as_array().map(Vec::len).unwrap_or(0);
    json!({
        "episode": summary["episode"],
        "ok": summary["ok"],
        "duration_s": summary["duration_s"],
        "skill_attempts": skills,
        "plan_error": summary["plan_error"],
        "stopped": summary["stopped"],
        "late_max_us": summary["control_timing"]["late_max_us"],
        "log": summary["log"],
    })
}

/// One run on the table the cell has now: plan, carry out, report. The summary (JSON) is
/// published as the "finished" status and printed.
fn run_table(
    cell: &Cell,
    robot: &mut RosRobot,
    policy: &mut dyn embody_agent::Policy,
    planner: &dyn embody_agent::Planner,
    log: Option<PathBuf>,
) -> Result<serde_json::Value> {
    let (a, scenario, arm, cfg) = (cell.a, cell.scenario, cell.arm, cell.cfg);
    let instruction = cell.instruction.to_string();
    let control_dt = 1.0 / scenario.robot.control_rate_hz;
    let scene = robot.scene().cloned().context("no scene")?;
    let obs = robot.observe().context("cannot read the robot's state")?;
    // Object poses arrive as TF frames on the objects topic, or as detections (this is the
    // same code as the simulator's perception, without noise), or come from the camera's
    // depth and segmentation through camera perception.
    let mut perception: Box<dyn embody_agent::Perception> = match cfg.scene_input {
        embody_ros::config::SceneInput::Camera => Box::new(CameraPerception::new(
            scene.objects.clone(),
            scene.containers.clone(),
            scene.table_height_m,
        )),
        _ => Box::new(SimulatedPerception::new(
            scene.objects.clone(),
            scene.containers.clone(),
            scene.table_height_m,
            0.0,
            0,
        )),
    };
    let mut controller = embody_sim::runner::controller_for(
        scenario,
        arm.clone(),
        &obs.joints.position,
        obs.gripper.width_m,
    );
    let (lo, hi) = cell.workspace;
    let mut safety = SafetyFilter::new(
        SafetyConfig::over_table(arm, lo, hi, scene.table_height_m),
        arm.clone(),
        control_dt,
    )
    .with_estop(robot.estop());
    let mut recorder = match &log {
        None => None,
        Some(path) => {
            let names = RecorderConfig::for_robot(cell.arm, &cfg.controller, &cfg.gripper);
            let mut r = McapRecorder::create(path, a.force, names)?;
            r.write_scenario(&ScenarioRecord {
                scenario_text: scenario.text.clone(),
                scenario_path: scenario.source.display().to_string(),
                urdf_text: cell.urdf_text.to_string(),
                seed: 0,
                instruction: instruction.clone(),
                policy: cell.policy_spec.to_string(),
                build: embody_sim::build_info(),
                physics: json!({"deployed": true, "ros": cfg}),
            });
            Some(r)
        }
    };
    robot.publish_status(
        &json!({"state": "running", "instruction": instruction, "episode": scene.episode}),
    );
    let episode = EpisodeConfig {
        instruction: Instruction::new(instruction.clone()),
        time_limit_s: scenario.time_limit_s,
        skill_timeout_s: 30.0,
        max_attempts: 3,
        max_replans: 1,
        carry_lift_m: EpisodeConfig::DEMONSTRATED_CARRY_LIFT_M,
        place_clearance_m: EpisodeConfig::DEMONSTRATED_PLACE_CLEARANCE_M,
        pace: Pace::WallClock(WatchdogConfig {
            policy_deadline_s: a.policy_deadline_ms / 1e3,
            ..WatchdogConfig::default()
        }),
    };
    let report = run_episode(
        EpisodeParts {
            robot,
            perception: perception.as_mut(),
            planner,
            policy,
            controller: &mut controller,
            safety: &mut safety,
            observer: recorder
                .as_mut()
                .map(|r| r as &mut (dyn EpisodeObserver + Send)),
        },
        &episode,
    );
    let log = match recorder {
        Some(r) => Some(r.finish()?),
        None => None,
    };
    let report = report.context("the agent loop failed")?;
    let ok = report.plan_error.is_none()
        && report.stopped.is_none()
        && report.plan.is_some()
        && last_attempts_succeeded(&report);
    let summary = json!({
        "state": "finished",
        "instruction": instruction,
        "episode": scene.episode,
        "scene_input": cfg.scene_input,
        "ok": ok,
        "plan": report.plan,
        "plan_error": report.plan_error,
        "stopped": report.stopped,
        "skills": report.skills,
        "duration_s": report.duration_s,
        "control_timing": report.control_timing,
        "dropped_messages": robot.dropped().by_topic(),
        "log": log.as_ref().map(|l| l.path.display().to_string()),
    });
    // Latched and repeated: the robot side (or a dashboard) may join late.
    for _ in 0..5 {
        robot.publish_status(&summary);
        std::thread::sleep(Duration::from_millis(100));
    }
    print_run(&report);
    Ok(summary)
}

/// A run's skills and how it ended, for a person.
fn print_run(report: &embody_agent::EpisodeReport) {
    for k in &report.skills {
        println!(
            "{:>6.1} s  {:<32} attempt {}  {}",
            k.end_s,
            k.skill.to_string(),
            k.attempt,
            if k.success {
                "ok".to_string()
            } else {
                k.failure
                    .as_ref()
                    .map(|f| f.to_string())
                    .unwrap_or_default()
            }
        );
    }
    if let Some(e) = &report.plan_error {
        println!("plan refused: {e}");
    }
    if let Some(s) = &report.stopped {
        println!("stopped: {s}");
    }
    if let Some(t) = &report.control_timing {
        println!(
            "control at {:.0} Hz: tick lateness p50 {:.1} us, p99 {:.1} us, max {:.0} us",
            t.rate_hz, t.late_p50_us, t.late_p99_us, t.late_max_us
        );
    }
}

/// The bring-up check: joint states in, a small smooth motion of the last joint out and back,
/// through the same safety filter as any run.
fn check(
    a: &DeployArgs,
    cfg: &RosConfig,
    robot: &mut RosRobot,
    arm: ArmModel,
    control_dt: f64,
) -> Result<ExitCode> {
    use embody_agent::clock::WallRate;
    use embody_agent::{GripperCommand, JointCommand};
    eprintln!("waiting for {} ...", a.names.joint_states_topic);
    robot.wait_ready(Duration::from_secs_f64(a.wait_s), false)?;
    let obs = robot.observe().context("cannot read the robot's state")?;
    let q0 = obs.joints.position.clone();
    let last = q0.len() - 1;
    let mut safety = SafetyFilter::new(
        SafetyConfig::over_table(&arm, [-2.0; 3], [2.0; 3], -1.0),
        arm,
        control_dt,
    )
    .with_estop(robot.estop());
    let seconds = 2.0;
    let ticks = (seconds / control_dt).round() as usize;
    let mut rate = WallRate::new(1.0 / control_dt);
    let (mut moved, mut worst, mut sent) = (0.0f64, 0.0f64, 0usize);
    for k in 0..=ticks {
        rate.wait();
        let s = k as f64 / ticks as f64;
        let phase = 2.0 * std::f64::consts::PI * s;
        let mut q = q0.clone();
        let mut dq = vec![0.0; q0.len()];
        q[last] += a.wiggle * 0.5 * (1.0 - phase.cos());
        dq[last] = a.wiggle * 0.5 * phase.sin() * 2.0 * std::f64::consts::PI / seconds;
        let mut cmd = JointCommand {
            stamp: robot.now(),
            positions: q.clone(),
            velocities: dq,
            gripper: GripperCommand {
                width_m: obs.gripper.width_m,
                max_force_n: 0.0,
            },
        };
        safety
            .check_command(&mut cmd)
            .map_err(|stop| anyhow::anyhow!("safety stop: {}", stop.reason))?;
        robot.command(&cmd).context("cannot command the robot")?;
        sent += 1;
        let now = robot.observe().context("lost the robot's state")?;
        moved = moved.max((now.joints.position[last] - q0[last]).abs());
        worst = worst.max((now.joints.position[last] - q[last]).abs());
    }
    let ok = moved > 0.5 * a.wiggle.abs();
    let summary = json!({
        "ok": ok,
        "joints": obs.joints.names,
        "position": q0,
        "gripper_width_m": obs.gripper.width_m,
        "commands_sent": sent,
        "trajectory_topic": cfg.trajectory_topic(),
        "max_motion_rad": moved,
        "max_tracking_error_rad": worst,
    });
    println!(
        "{} joints read from {}; moved {} by {:.4} rad of {:.4} (largest lag {:.4} rad): {}",
        obs.joints.names.len(),
        a.names.joint_states_topic,
        obs.joints.names[last],
        moved,
        a.wiggle,
        worst,
        if ok { "ok" } else { "the robot did not follow" }
    );
    if a.json {
        println!("{summary}");
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Every skill's final attempt worked.
fn last_attempts_succeeded(r: &embody_agent::EpisodeReport) -> bool {
    let mut last = std::collections::HashMap::new();
    for k in &r.skills {
        last.insert(k.skill.clone(), k.success);
    }
    !last.is_empty() && last.values().all(|ok| *ok)
}
