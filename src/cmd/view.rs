//! `embody view`: the Bevy viewer, live over a simulated episode or playing a recorded log.
//! The viewer is a cargo feature (`--features viewer`): Bevy is a long build that the rest of
//! embody does not need.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Args;

#[derive(Args)]
pub struct ViewArgs {
    /// A scenario (.toml: run it live) or a log (.mcap: play it back).
    pub target: PathBuf,
    /// Seed of the live episode.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub policy: super::common::PolicyArgs,
    /// Instruction of the live episode (default: the scenario's).
    #[arg(long)]
    pub instruction: Option<String>,
    #[command(flatten)]
    pub planner: super::common::PlannerArgs,
    /// Simulated seconds per wall second (up/down arrows change it while viewing).
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Window size, WIDTHxHEIGHT.
    #[arg(long, default_value = "1280x720")]
    pub size: String,
    /// Save a screenshot when the run has been shown to its end (with --exit-at-end).
    #[arg(long, value_name = "PNG")]
    pub screenshot: Option<PathBuf>,
    /// Close the window once the run has been shown to its end.
    #[arg(long)]
    pub exit_at_end: bool,
    /// Stop at this sim time (s) as if the run ended there: with --exit-at-end --screenshot,
    /// a picture of that instant.
    #[arg(long, value_name = "S")]
    pub stop_at: Option<f64>,
    /// Print what was shown as one JSON line when the window closes.
    #[arg(long)]
    pub json: bool,
}

fn parse_size(s: &str) -> Result<(u32, u32)> {
    let parsed = s
        .split_once('x')
        .and_then(|(w, h)| Some((w.trim().parse().ok()?, h.trim().parse().ok()?)));
    match parsed {
        Some((w, h)) if (64..=8192).contains(&w) && (64..=8192).contains(&h) => Ok((w, h)),
        _ => bail!("--size {s}: expected WIDTHxHEIGHT, each 64..8192, e.g. 1280x720"),
    }
}

#[cfg(not(feature = "viewer"))]
pub fn run(a: ViewArgs) -> Result<ExitCode> {
    parse_size(&a.size)?;
    bail!(
        "this embody was built without the viewer; build it with \
         `cargo build --release --features viewer` (Bevy; it renders through Vulkan, e.g. \
         `apt-get install mesa-vulkan-drivers` on a machine without a GPU)"
    )
}

#[cfg(feature = "viewer")]
pub fn run(a: ViewArgs) -> Result<ExitCode> {
    use std::sync::Arc;

    use anyhow::Context;
    use embody_sim::runner::{run_sim_episode_watched, RunOptions};
    use embody_sim::view::{load_log, LiveFeed, PlaybackControl, SceneModel, ViewUpdate};
    use embody_viewer::{Source, ViewerOptions};

    if !(a.speed > 0.0 && a.speed <= 64.0) {
        bail!("--speed {}: expected a number in (0, 64]", a.speed);
    }
    if a.screenshot.is_some() && !a.exit_at_end {
        bail!("--screenshot is taken at the end of the run: add --exit-at-end");
    }
    let mut opts = ViewerOptions {
        title: String::new(),
        speed: a.speed,
        size: parse_size(&a.size)?,
        screenshot: a.screenshot.clone(),
        exit_at_end: a.exit_at_end,
        stop_at: a.stop_at,
    };
    let is_log = a.target.extension().is_some_and(|e| e == "mcap");
    let (summary, episode) = if is_log {
        let (scene, timeline, lost) =
            load_log(&a.target).with_context(|| format!("cannot play {}", a.target.display()))?;
        if let Some(lost) = &lost {
            eprintln!("view: the log is damaged; playing what was recorded: {lost}");
        }
        opts.title = format!("embody: {}", a.target.display());
        (
            embody_viewer::run(
                scene,
                Source::Log {
                    timeline: Box::new(timeline),
                    lost,
                },
                opts,
            )?,
            None,
        )
    } else {
        let scenario = super::common::load_scenario(&a.target)?;
        let (policy, policies) = a.policy.resolve(Some(&scenario))?;
        let planner = super::common::make_planner(&a.planner)?;
        let world = embody_sim::World::new(scenario.clone(), a.seed)?;
        let mut scene = SceneModel::from_world(&world)?;
        if let Some(i) = &a.instruction {
            scene.instruction = i.clone();
        }
        let scene = Arc::new(scene);
        let control = Arc::new(PlaybackControl::new(a.speed));
        let (tx, rx) = crossbeam_channel::unbounded();
        let run_opts = RunOptions {
            instruction: a.instruction.clone(),
            policy_name: policy,
            ..RunOptions::default()
        };
        let seed = a.seed;
        let feed_scene = scene.clone();
        let feed_control = control.clone();
        let episode = std::thread::Builder::new()
            .name("embody-episode".into())
            .spawn(move || {
                let mut feed = LiveFeed::new(feed_scene, tx.clone(), feed_control);
                let result = policies
                    .make()
                    .map_err(anyhow::Error::msg)
                    .and_then(|mut p| {
                        run_sim_episode_watched(
                            &scenario,
                            seed,
                            p.as_mut(),
                            planner.as_ref(),
                            &run_opts,
                            Some(&mut feed),
                        )
                        .map_err(anyhow::Error::from)
                    });
                let update = match &result {
                    Ok(r) => ViewUpdate::Outcome(Box::new(r.outcome_record())),
                    Err(e) => ViewUpdate::Failed(format!("{e:#}")),
                };
                let _ = tx.send(update);
                result
            })?;
        opts.title = format!("embody: {} seed {}", scene.scenario, a.seed);
        let source = Source::Live {
            updates: rx,
            control: control.clone(),
        };
        let summary = embody_viewer::run((*scene).clone(), source, opts);
        // The window is gone: let the episode finish unpaced if it is still running.
        control.close();
        (summary?, Some(episode))
    };
    if let Some(episode) = episode {
        if episode.is_finished() {
            match episode.join() {
                Ok(Ok(r)) => eprintln!(
                    "view: episode seed {} {} ({}/{} cleared, {:.1} s simulated)",
                    r.seed,
                    if r.success { "succeeded" } else { "failed" },
                    r.objects_cleared,
                    r.objects_total,
                    r.sim_time_s
                ),
                Ok(Err(e)) => eprintln!("view: the episode could not run: {e:#}"),
                Err(_) => eprintln!("view: the episode's thread panicked"),
            }
        }
    }
    if a.json {
        println!("{}", serde_json::to_string(&summary)?);
    }
    Ok(ExitCode::SUCCESS)
}
