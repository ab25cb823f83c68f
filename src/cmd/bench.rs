//! `embody bench`: speed figures, each with its reference measured in the same run.

use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use embody_agent::EmbeddedPlanner;
use embody_sim::bench::{scene_description, scene_steps_per_s, Rate};
use embody_sim::runner::{run_sim_episode, RunOptions};
use serde_json::json;

use super::common::{load_scenario, python};
use embody_policies::{ExpertConfig, ScriptedExpert};

#[derive(Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub what: BenchWhat,
}

#[derive(Subcommand)]
pub enum BenchWhat {
    /// Simulator speed: the standard scene and whole scripted episodes, one thread.
    Sim(SimBench),
    /// Wall-clock controller loop jitter: the IK controller ticking at a fixed rate, against a
    /// bare loop at the same rate in the same run.
    Control(ControlBench),
    /// Diffusion policy latency: one denoiser call and a DDIM-10 chunk through Rust + ort,
    /// against PyTorch eager and onnxruntime-python on the same weights.
    Policy(super::bench_policy::PolicyBench),
    /// Planning latency of the embedded planner on one thread: every request of the planner
    /// suite in its scene, against the 50 ms budget per request.
    Planner(super::bench_planner::PlannerBench),
    /// JointState latency over DDS (two participants, this machine) at a fixed rate, against
    /// a channel between two threads at the same rate in the same run.
    Ros(RosBench),
}

#[derive(Args)]
pub struct RosBench {
    /// Publish rate (Hz).
    #[arg(long, default_value_t = 500.0)]
    pub rate: f64,
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    /// DDS domain (default 0; use a free one on a shared network).
    #[arg(long, default_value_t = 0)]
    pub domain_id: u16,
    #[arg(long)]
    pub json: bool,
    /// Also measure with DDS-Security (a keystore made for the run, enclave /embody/bench):
    /// the latency with security against without, in the same run.
    #[arg(long)]
    pub enclave: bool,
}

fn bench_ros(b: RosBench) -> Result<ExitCode> {
    use embody_ros::security::{self, Role, Security, Validity};
    let off = Security::Off;
    let r = embody_ros::bench::joint_state_latency(b.rate, b.seconds, b.domain_id, &off)?;
    // With --enclave: the same run again, both participants secured by a keystore made here
    // (authentication, access control, encrypted data), so the two are measured together.
    let secured = if b.enclave {
        let ks = std::env::temp_dir().join(format!("embody-bench-keystore-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&ks);
        let validity = Validity::days(1, 0);
        security::create_keystore(&ks, validity)?;
        let cfg = embody_ros::RosConfig::default();
        let made = security::create_enclave(&ks, "/embody/bench", Role::Bench, &cfg, validity)?;
        let sec = Security::Enclave {
            enclave: "/embody/bench".into(),
            dir: made.dir,
        };
        let out = embody_ros::bench::joint_state_latency(b.rate, b.seconds, b.domain_id, &sec);
        let _ = std::fs::remove_dir_all(&ks);
        Some(out?)
    } else {
        None
    };
    println!(
        "JointState at {} Hz for {} s ({} messages), this machine:",
        r.rate_hz, r.seconds, r.dds.sent
    );
    let mut rows = vec![
        ("DDS (ros2-client)", &r.dds),
        ("thread channel (reference)", &r.channel),
    ];
    if let Some(s) = &secured {
        rows.push(("DDS with DDS-Security", &s.dds));
    }
    for (name, l) in rows {
        println!(
            "{name:<28} received {:>5}  latency p50 {:>8.1} us  p99 {:>8.1} us  max {:>8.1} us",
            l.received, l.p50_us, l.p99_us, l.max_us
        );
    }
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    println!(
        "DDS / channel: p50 {:.1}x, p99 {:.1}x",
        ratio(r.dds.p50_us, r.channel.p50_us),
        ratio(r.dds.p99_us, r.channel.p99_us)
    );
    if let Some(s) = &secured {
        println!(
            "secured / plain DDS: p50 {:.2}x, p99 {:.2}x",
            ratio(s.dds.p50_us, r.dds.p50_us),
            ratio(s.dds.p99_us, r.dds.p99_us)
        );
    }
    if b.json {
        let mut j = json!({"bench": "ros", "report": r});
        if let Some(s) = &secured {
            j["secured"] = json!(s);
            j["ratio_secured_vs_plain_p50"] = json!(ratio(s.dds.p50_us, r.dds.p50_us));
            j["ratio_secured_vs_plain_p99"] = json!(ratio(s.dds.p99_us, r.dds.p99_us));
        }
        println!("{j}");
    }
    let lost: Vec<String> = std::iter::once(("plain", &r))
        .chain(secured.iter().map(|s| ("secured", s)))
        .filter(|(_, x)| x.dds.received != x.dds.sent)
        .map(|(n, x)| {
            format!(
                "{n}: {} of {} lost",
                x.dds.sent - x.dds.received,
                x.dds.sent
            )
        })
        .collect();
    Ok(if lost.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("messages lost: {}", lost.join("; "));
        ExitCode::from(1)
    })
}

#[derive(Args)]
pub struct ControlBench {
    #[arg(long, default_value = "scenarios/table_clearing.toml")]
    pub scenario: PathBuf,
    /// Loop rate (Hz).
    #[arg(long, default_value_t = 500.0)]
    pub rate: f64,
    /// Seconds per loop.
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Reference {
    /// The same scene built in MuJoCo (PyPI `mujoco`) by scripts/bench_mujoco.py.
    Mujoco,
}

#[derive(Args)]
pub struct SimBench {
    #[arg(long, default_value = "scenarios/table_clearing.toml")]
    pub scenario: PathBuf,
    /// Physics steps per timed run of the standard scene.
    #[arg(long, default_value_t = 2400)]
    pub steps: u64,
    /// Timed runs (after one warm-up); min/median/max are reported.
    #[arg(long, default_value_t = 5)]
    pub repeats: usize,
    /// Whole scripted episodes to time.
    #[arg(long, default_value_t = 3)]
    pub episodes: u64,
    /// Also measure a reference simulator on the same scene, in this run.
    #[arg(long, value_enum)]
    pub reference: Option<Reference>,
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: BenchArgs) -> Result<ExitCode> {
    match a.what {
        BenchWhat::Sim(b) => bench_sim(b),
        BenchWhat::Control(b) => bench_control(b),
        BenchWhat::Policy(b) => super::bench_policy::bench_policy(b),
        BenchWhat::Ros(b) => bench_ros(b),
        BenchWhat::Planner(b) => super::bench_planner::bench_planner(b),
    }
}

fn bench_sim(b: SimBench) -> Result<ExitCode> {
    if b.repeats == 0 || b.steps == 0 {
        bail!("--steps and --repeats must be at least 1");
    }
    let scenario = load_scenario(&b.scenario)?;
    let dt = scenario.physics.dt;
    // Warm-up, then the timed runs.
    scene_steps_per_s(&scenario, 0, b.steps.min(240), 1)?;
    let scene = scene_steps_per_s(&scenario, 0, b.steps, b.repeats)?;

    let mut episode_steps = 0u64;
    let mut episode_sim_s = 0.0;
    let wall = Instant::now();
    for seed in 0..b.episodes {
        let mut policy = ScriptedExpert::new(ExpertConfig::default());
        let r = run_sim_episode(
            &scenario,
            seed,
            &mut policy,
            &EmbeddedPlanner::default(),
            &RunOptions::default(),
        )?;
        episode_steps += r.sim_steps;
        episode_sim_s += r.sim_time_s;
    }
    let episode_wall = wall.elapsed().as_secs_f64();

    let reference = match b.reference {
        None => None,
        Some(Reference::Mujoco) => Some(mujoco_reference(&scenario, b.steps, b.repeats)?),
    };

    let ours = json!({
        "scene_steps_per_s": scene,
        "scene_realtime_factor": scene.median * dt,
        "episode_steps_per_s": episode_steps as f64 / episode_wall,
        "episode_realtime_factor": episode_sim_s / episode_wall,
        "episodes": b.episodes,
    });
    let mut summary = json!({
        "bench": "sim",
        "scenario": scenario.name,
        "dt": dt,
        "threads": 1,
        "steps_per_run": b.steps,
        "repeats": b.repeats,
        "embody": ours,
    });
    println!("embody (rapier3d), one thread, dt = {dt:.6} s");
    print_rate("  standard scene", &scene, dt);
    println!(
        "  scripted episodes   {:>9.0} steps/s  ({:.1}x real time, {} episodes incl. control and IK)",
        episode_steps as f64 / episode_wall,
        episode_sim_s / episode_wall,
        b.episodes
    );
    if let Some(r) = reference {
        let ratio = scene.median / r.steps_per_s.median;
        println!("{} {}, one thread, same scene and dt", r.name, r.version);
        print_rate("  standard scene", &r.steps_per_s, dt);
        println!("  ratio embody / {} (median): {ratio:.2}", r.name);
        summary["reference"] = json!({
            "name": r.name, "version": r.version, "scene_steps_per_s": r.steps_per_s,
            "scene_realtime_factor": r.steps_per_s.median * dt,
        });
        summary["ratio_scene_median"] = json!(ratio);
    }
    if b.json {
        println!("{}", serde_json::to_string(&summary)?);
    }
    Ok(ExitCode::SUCCESS)
}

fn bench_control(b: ControlBench) -> Result<ExitCode> {
    use embody_agent::clock::{percentile_us, WallRate};
    use embody_agent::{Action, ActionChunk, Controller, ControllerConfig, IkConfig};
    if !(b.rate > 0.0 && b.seconds > 0.0) {
        bail!("--rate and --seconds must be positive");
    }
    let scenario = load_scenario(&b.scenario)?;
    let world = embody_sim::World::new(scenario.clone(), 0)?;
    let home = scenario.robot.home.clone();
    let ticks = (b.rate * b.seconds).round() as usize;
    let run = |with_controller: bool| -> (Vec<std::time::Duration>, usize, f64) {
        let mut controller = Controller::new(
            world.arm.clone(),
            ControllerConfig {
                dt: 1.0 / b.rate,
                limit_scale: scenario.robot.limit_scale,
                grip_force_n: scenario.robot.grip_force_n,
                rest_posture: home.clone(),
                ik: IkConfig {
                    max_iterations: 30,
                    ..IkConfig::default()
                },
            },
            &home,
            0.08,
        );
        // A target circling 10 cm around the home pose: the IK works every tick.
        let origin = world.arm.forward(&home);
        let actions = (0..200)
            .map(|i| {
                let a = i as f64 * 0.05;
                let mut p = origin;
                p.translation.vector += nalgebra::Vector3::new(0.1 * a.cos(), 0.1 * a.sin(), 0.0);
                Action {
                    ee_target_in_base: p,
                    gripper_width_m: 0.08,
                }
            })
            .collect();
        controller.set_chunk(ActionChunk {
            start: 0.0,
            dt: 0.1,
            actions,
            execute: 200,
            completes_skill: false,
            source: Default::default(),
        });
        let mut rate = WallRate::new(b.rate);
        let mut late = Vec::with_capacity(ticks);
        let mut missed = 0;
        let mut busy = 0.0;
        for k in 0..ticks {
            let l = rate.wait();
            if l > rate.period() {
                missed += 1;
            }
            late.push(l);
            if with_controller {
                let t = std::time::Instant::now();
                std::hint::black_box(controller.tick(k as f64 / b.rate));
                busy += t.elapsed().as_secs_f64();
            }
        }
        (late, missed, busy / ticks as f64 * 1e6)
    };
    let (mut bare, bare_missed, _) = run(false);
    let (mut ctl, ctl_missed, tick_us) = run(true);
    let row = |name: &str, v: &mut Vec<std::time::Duration>, missed: usize| {
        let (p50, p99, max) = (
            percentile_us(v, 50.0),
            percentile_us(v, 99.0),
            percentile_us(v, 100.0),
        );
        println!("{name:<22} lateness p50 {p50:>7.1} us  p99 {p99:>7.1} us  max {max:>8.1} us  deadline misses {missed}");
        json!({"p50_us": p50, "p99_us": p99, "max_us": max, "missed": missed})
    };
    println!(
        "wall-clock loop at {} Hz for {} s ({} ticks), this machine:",
        b.rate, b.seconds, ticks
    );
    let bare_v = row("bare loop (reference)", &mut bare, bare_missed);
    let ctl_v = row("IK controller", &mut ctl, ctl_missed);
    println!("controller tick: {tick_us:.1} us mean");
    if b.json {
        println!(
            "{}",
            json!({"bench": "control", "rate_hz": b.rate, "seconds": b.seconds, "reference": bare_v, "controller": ctl_v, "controller_tick_us": tick_us})
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn print_rate(what: &str, r: &Rate, dt: f64) {
    println!(
        "{what:<20}{:>9.0} steps/s median (min {:.0}, max {:.0}; {:.1}x real time)",
        r.median,
        r.min,
        r.max,
        r.median * dt
    );
}

struct ReferenceResult {
    name: String,
    version: String,
    steps_per_s: Rate,
}

fn mujoco_reference(
    scenario: &std::sync::Arc<embody_sim::Scenario>,
    steps: u64,
    repeats: usize,
) -> Result<ReferenceResult> {
    let scene = scene_description(scenario, 0)?;
    let dir = std::env::temp_dir().join(format!("embody-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let scene_path = dir.join("scene.json");
    std::fs::write(&scene_path, serde_json::to_string(&scene)?)?;
    let script = crate::home::script("scripts/bench_mujoco.py")?;
    let py = python()?;
    let out = Command::new(&py)
        .arg(&script)
        .arg(&scene_path)
        .args([
            "--steps",
            &steps.to_string(),
            "--repeats",
            &repeats.to_string(),
        ])
        .output()
        .with_context(|| format!("cannot run {}", py.display()))?;
    let _ = std::fs::remove_dir_all(&dir);
    if !out.status.success() {
        bail!(
            "the MuJoCo reference failed ({}):\n{}\nInstall it with scripts/setup.sh (pip package `mujoco`).",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .with_context(|| format!("unexpected output from {}: {stdout}", script.display()))?;
    let rates: Vec<f64> = v["steps_per_s"]
        .as_array()
        .context("reference output lacks steps_per_s")?
        .iter()
        .filter_map(|x| x.as_f64())
        .collect();
    if rates.is_empty() {
        bail!("reference reported no runs");
    }
    Ok(ReferenceResult {
        name: "mujoco".into(),
        version: v["version"].as_str().unwrap_or("?").to_string(),
        steps_per_s: Rate::of(rates),
    })
}
