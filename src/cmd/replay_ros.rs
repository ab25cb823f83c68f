//! `embody replay LOG --to-ros`: a recorded run's arm and gripper commands sent to a robot over
//! ROS 2, on the log's own schedule (scaled by `--speed`), through the safety filter, with the
//! e-stop and a watchdog as in `deploy`. The robot must start where the log starts.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use embody_agent::log::RecoveredLog;
use embody_agent::{ArmModel, GripperCommand, JointCommand, Robot, SafetyConfig, SafetyFilter};
use embody_ros::RosRobot;
use embody_sim::recorded::{recorded_run, RecordedCommand, RecordedRun};
use embody_sim::replay::scenario_record;
use embody_sim::Scenario;
use serde_json::json;

#[derive(Args)]
pub struct ToRosArgs {
    /// Send the log's arm and gripper commands to a robot over ROS 2 (a log of the simulator
    /// or of `deploy`), through the safety filter. The robot must be where the log starts.
    #[arg(long)]
    pub to_ros: bool,
    /// Playback speed: 0.5 takes twice the recorded time (velocities halve).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Check the log and every command against the safety filter at this speed, and send
    /// nothing (no robot needed).
    #[arg(long)]
    pub dry_run: bool,
    /// When the robot is not where the log starts, move it there first (slowly, 0.2 rad/s on
    /// the joint farthest away) instead of refusing.
    #[arg(long)]
    pub approach: bool,
    /// Largest difference (rad) of any joint from the log's first state to start without
    /// --approach.
    #[arg(long, default_value_t = 0.05)]
    pub start_tolerance_rad: f64,
    /// Stop (and hold) when a command goes out this much later than its schedule (ms).
    #[arg(long, default_value_t = 200.0)]
    pub late_ms: f64,
    /// Joint states older than this hold the arm (ms).
    #[arg(long, default_value_t = 100.0)]
    pub stale_ms: f64,
    /// How long to wait for the robot's joint states (s).
    #[arg(long, default_value_t = 15.0)]
    pub wait_s: f64,
    #[command(flatten)]
    pub names: super::ros::RosArgs,
    #[command(flatten)]
    pub security: super::security::SecurityArgs,
    #[command(flatten)]
    pub workspace: super::common::WorkspaceArgs,
}

/// How a replay went, as printed and as the JSON line holds it.
#[derive(Default, serde::Serialize)]
struct Outcome {
    commands_total: usize,
    commands_sent: usize,
    /// Largest difference of any joint from the log's state at the same point of the run (not
    /// in a dry run).
    max_tracking_error_rad: Option<f64>,
    /// Where the largest difference was: the joint, and the time in the log (s).
    max_tracking_error_joint: Option<String>,
    max_tracking_error_at_s: Option<f64>,
    mean_tracking_error_rad: Option<f64>,
    /// 95th percentile of the per-command largest difference: the run without its worst 5 %.
    p95_tracking_error_rad: Option<f64>,
    /// Longest interval (ms) between the robot's joint-state stamps during the replay: a robot
    /// (or driver) that stops publishing for a while also stops moving on schedule, and its
    /// tracking error then grows by what the arm could not follow in that time.
    longest_state_gap_ms: Option<f64>,
    /// Latest a command went out behind its schedule (ms): this side's own stalls, which the
    /// arm follows as a pause.
    max_send_late_ms: Option<f64>,
    /// How far the robot was moved first (--approach), on its farthest joint.
    approach_rad: Option<f64>,
    safety_interventions: usize,
    stopped: Option<String>,
    duration_s: f64,
}

pub fn run(log: &RecoveredLog, a: &ToRosArgs, json_line: bool) -> Result<bool> {
    if !(a.speed.is_finite() && a.speed > 0.0 && a.speed <= 4.0) {
        bail!("--speed must be above 0 and at most 4, got {}", a.speed);
    }
    let record = scenario_record(log)?;
    let scenario = Scenario::from_str_at(&record.scenario_text, Path::new(&record.scenario_path))
        .with_context(|| format!("{}: the recorded scenario does not load", log.path))?;
    // A log keeps the URDF's text; one without it (a hand-made log) uses the scenario's file.
    let arm = if record.urdf_text.trim().is_empty() {
        ArmModel::from_urdf_file(
            &scenario.urdf_path(),
            &scenario.robot.base_link,
            &scenario.robot.tcp_link,
        )
    } else {
        ArmModel::from_urdf_str(
            &record.urdf_text,
            &format!("{} (its recorded URDF)", log.path),
            &scenario.robot.base_link,
            &scenario.robot.tcp_link,
        )
    }
    .with_context(|| format!("{}: the recorded robot does not load", log.path))?;
    let run = recorded_run(log, &embody_sim::replay::names_of(log)?, &arm.joint_names())?;
    let control_dt = 1.0 / scenario.robot.control_rate_hz;
    let (lo, hi) = a.workspace.resolve(&scenario)?;
    let safety = SafetyFilter::new(
        SafetyConfig::over_table(&arm, lo, hi, 0.0),
        arm.clone(),
        control_dt / a.speed,
    );
    let outcome = if a.dry_run {
        dry_run(&run, safety, a.speed)
    } else {
        let mut cfg = a.names.config_for(&scenario.robot);
        cfg.security = a.security.resolve("/embody/deploy")?;
        cfg.stale_after_s = a.stale_ms / 1e3;
        cfg.point_horizon_s = control_dt / a.speed;
        let cfg = cfg.for_arm(&arm);
        let mut robot = RosRobot::connect(cfg.clone(), arm)?;
        eprintln!(
            "waiting for {} on domain {} ...",
            cfg.joint_states_topic, cfg.domain_id
        );
        robot.wait_ready(Duration::from_secs_f64(a.wait_s), false)?;
        let safety = safety.with_estop(robot.estop());
        send(&run, &mut robot, safety, a, control_dt / a.speed)?
    };
    let stopped = outcome
        .stopped
        .as_ref()
        .map(|s| format!("; stopped: {s}"))
        .unwrap_or_default();
    if a.dry_run {
        println!(
            "dry run: {} of {} commands pass the safety filter at speed {}; the replay would take \
             {:.1} s{stopped}",
            outcome.commands_sent, outcome.commands_total, a.speed, outcome.duration_s
        );
    } else {
        println!(
            "sent {} of {} commands{} in {:.1} s; tracking error max {:.4} rad, p95 {:.4} rad, mean \
             {:.4} rad; joint states at most {:.0} ms apart{stopped}",
            outcome.commands_sent,
            outcome.commands_total,
            outcome
                .approach_rad
                .map(|r| format!(" (after moving {r:.3} rad to the log's start)"))
                .unwrap_or_default(),
            outcome.duration_s,
            outcome.max_tracking_error_rad.unwrap_or(0.0),
            outcome.p95_tracking_error_rad.unwrap_or(0.0),
            outcome.mean_tracking_error_rad.unwrap_or(0.0),
            outcome.longest_state_gap_ms.unwrap_or(0.0),
        );
    }
    if json_line {
        let mut v = serde_json::to_value(&outcome)?;
        v["log"] = json!(log.path);
        v["speed"] = json!(a.speed);
        v["dry_run"] = json!(a.dry_run);
        println!("{v}");
    }
    Ok(outcome.stopped.is_none())
}

/// The log's commands through the safety filter, as a replay at `speed` would send them.
fn dry_run(run: &RecordedRun, mut safety: SafetyFilter, speed: f64) -> Outcome {
    let mut out = Outcome {
        commands_total: run.commands.len(),
        ..Outcome::default()
    };
    for c in &run.commands {
        let mut cmd = command(c, speed, c.t);
        match safety.check_command(&mut cmd) {
            Ok(iv) => out.safety_interventions += iv.len(),
            Err(stop) => {
                out.stopped = Some(format!("at {:.3} s of the log: {}", c.t, stop.reason));
                break;
            }
        }
        out.commands_sent += 1;
    }
    let span = run.commands.last().map(|c| c.t).unwrap_or(0.0) - run.commands[0].t;
    out.duration_s = span / speed;
    out
}

/// The recorded command as sent at `speed` (velocities scale with it).
fn command(c: &RecordedCommand, speed: f64, stamp: f64) -> JointCommand {
    JointCommand {
        stamp,
        positions: c.positions.clone(),
        velocities: c.velocities.iter().map(|v| v * speed).collect(),
        gripper: GripperCommand {
            width_m: c.gripper_width_m,
            max_force_n: c.gripper_force_n,
        },
    }
}

/// The robot's largest joint difference from `q` and that joint's index.
fn farthest(now: &[f64], q: &[f64]) -> (usize, f64) {
    now.iter()
        .zip(q)
        .map(|(a, b)| a - b)
        .enumerate()
        .max_by(|x, y| x.1.abs().total_cmp(&y.1.abs()))
        .unwrap_or((0, 0.0))
}

/// Sends the commands on the log's schedule at `a.speed`; `tick_dt` is the safety filter's.
fn send(
    run: &RecordedRun,
    robot: &mut RosRobot,
    mut safety: SafetyFilter,
    a: &ToRosArgs,
    tick_dt: f64,
) -> Result<Outcome> {
    let mut out = Outcome {
        commands_total: run.commands.len(),
        ..Outcome::default()
    };
    let first = &run.commands[0];
    // Where the log starts: its first recorded state, else its first command.
    let start_q = run
        .state_at(first.t)
        .map(|s| s.positions.clone())
        .unwrap_or_else(|| first.positions.clone());
    let obs = robot.observe().context("cannot read the robot's state")?;
    let (j, diff) = farthest(&obs.joints.position, &start_q);
    if diff.abs() > a.start_tolerance_rad {
        if !a.approach {
            bail!(
                "the robot is not where the log starts: {} is {diff:+.4} rad from the log's first \
                 state (tolerance {} rad); move it there, or pass --approach to move it slowly",
                run.joint_names[j],
                a.start_tolerance_rad
            );
        }
        approach(
            robot,
            &mut safety,
            (&obs.joints.position, &start_q),
            first,
            tick_dt,
        )?;
        out.approach_rad = Some(diff.abs());
    }
    let started = Instant::now();
    let (mut max, mut sum) = (0.0f64, 0.0);
    let mut errors: Vec<f64> = Vec::with_capacity(run.commands.len());
    let mut last_stamp = robot.state_stamp_s();
    let mut longest_gap = 0.0f64;
    let mut last_sent: Option<JointCommand> = None;
    for c in &run.commands {
        let due = Duration::from_secs_f64((c.t - first.t).max(0.0) / a.speed);
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
        let late = started.elapsed().saturating_sub(due);
        let late_ms = late.as_secs_f64() * 1e3;
        out.max_send_late_ms = Some(out.max_send_late_ms.unwrap_or(0.0).max(late_ms));
        let mut cmd = command(c, a.speed, robot.now());
        let stop = if late_ms > a.late_ms {
            Some(format!(
                "watchdog: a command went out {late_ms:.0} ms late (limit {} ms)",
                a.late_ms
            ))
        } else {
            match safety.check_command(&mut cmd) {
                Ok(iv) => {
                    out.safety_interventions += iv.len();
                    None
                }
                Err(s) => Some(format!("safety stop: {}", s.reason)),
            }
        };
        let stop = stop.or_else(|| robot.command(&cmd).err().map(|e| e.to_string()));
        if let Some(why) = stop {
            hold(robot, &safety, last_sent.as_ref().unwrap_or(&cmd));
            out.stopped = Some(format!("at {:.3} s of the log: {why}", c.t));
            break;
        }
        out.commands_sent += 1;
        last_sent = Some(cmd);
        let obs = match robot.observe() {
            Ok(o) => o,
            Err(e) => {
                hold(
                    robot,
                    &safety,
                    last_sent.as_ref().unwrap_or(&command(c, a.speed, 0.0)),
                );
                out.stopped = Some(format!("at {:.3} s of the log: {e}", c.t));
                break;
            }
        };
        if let Some(s) = robot.state_stamp_s() {
            if let Some(prev) = last_stamp {
                longest_gap = longest_gap.max(s - prev);
            }
            last_stamp = Some(s);
        }
        // The state observed is as old as it is: compared with the log where the run was
        // when the robot measured it, so that delivery delay is not counted as tracking error
        // (the robot's own lag behind the commands is).
        let age = robot.state_age().unwrap_or_default().as_secs_f64();
        let measured_at = first.t + (started.elapsed().as_secs_f64() - age) * a.speed;
        if let Some(recorded) = run.positions_at(measured_at) {
            let (j, e) = farthest(&obs.joints.position, &recorded);
            if e.abs() > max {
                max = e.abs();
                out.max_tracking_error_joint = Some(run.joint_names[j].clone());
                out.max_tracking_error_at_s = Some(c.t);
            }
            sum += e.abs();
            errors.push(e.abs());
        }
    }
    if !errors.is_empty() {
        out.max_tracking_error_rad = Some(max);
        out.mean_tracking_error_rad = Some(sum / errors.len() as f64);
        errors.sort_by(f64::total_cmp);
        let i = ((errors.len() - 1) as f64 * 0.95).round() as usize;
        out.p95_tracking_error_rad = Some(errors[i]);
    }
    if last_stamp.is_some() {
        out.longest_state_gap_ms = Some(longest_gap * 1e3);
    }
    out.duration_s = started.elapsed().as_secs_f64();
    Ok(out)
}

/// Stay where the last safe command put the arm, velocity zero.
fn hold(robot: &mut RosRobot, safety: &SafetyFilter, last: &JointCommand) {
    let cmd = safety.hold(last);
    if let Err(e) = robot.command(&cmd) {
        tracing::error!(%e, "cannot send the hold command");
    }
}

/// Moves from `from` to `to` on a smooth (cosine) profile at 0.2 rad/s on the joint farthest
/// away, at least 1 s, a command every `dt` (the safety filter's tick), with the gripper as
/// the log starts.
fn approach(
    robot: &mut RosRobot,
    safety: &mut SafetyFilter,
    (from, to): (&[f64], &[f64]),
    first: &RecordedCommand,
    dt: f64,
) -> Result<()> {
    let (_, diff) = farthest(from, to);
    let seconds = (diff.abs() / 0.2).max(1.0);
    let ticks = (seconds / dt).ceil() as usize;
    eprintln!(
        "approach: {:.3} rad over {seconds:.1} s to the log's start",
        diff.abs()
    );
    let t0 = Instant::now();
    for k in 1..=ticks {
        let due = Duration::from_secs_f64(k as f64 * dt);
        if let Some(wait) = due.checked_sub(t0.elapsed()) {
            std::thread::sleep(wait);
        }
        let s = k as f64 / ticks as f64;
        let phase = std::f64::consts::PI * s;
        let blend = 0.5 * (1.0 - phase.cos());
        let rate = 0.5 * phase.sin() * std::f64::consts::PI / seconds;
        let mut cmd = JointCommand {
            stamp: robot.now(),
            positions: from
                .iter()
                .zip(to)
                .map(|(a, b)| a + blend * (b - a))
                .collect(),
            velocities: from.iter().zip(to).map(|(a, b)| rate * (b - a)).collect(),
            gripper: GripperCommand {
                width_m: first.gripper_width_m,
                max_force_n: first.gripper_force_n,
            },
        };
        if let Err(stop) = safety.check_command(&mut cmd) {
            hold(robot, safety, &cmd);
            bail!(
                "safety stop while approaching the log's start: {}",
                stop.reason
            );
        }
        robot.command(&cmd).context("cannot command the robot")?;
        robot
            .observe()
            .context("lost the robot's state while approaching")?;
    }
    Ok(())
}
