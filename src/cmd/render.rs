//! `embody render`: a scenario's camera image, depth and segmentation as PNG files, and how
//! far camera perception's object positions are from the simulator's truth.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use embody_agent::{CameraPerception, Perception, Robot};
use embody_sim::camera::{render, write_pngs, CameraSpec};
use embody_sim::{SimRobot, World};
use serde_json::json;

use super::common::load_scenario;

#[derive(Args)]
pub struct RenderArgs {
    pub scenario: PathBuf,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Several scenes (seeds seed..seed+N): perception error and render time over all of them;
    /// images are written for the first.
    #[arg(long, default_value_t = 1)]
    pub seeds: u64,
    /// Which of the scenario's cameras (default: the first; without any, a view from the
    /// front of the table).
    #[arg(long)]
    pub camera: Option<String>,
    /// Image size instead of the camera's.
    #[arg(long, num_args = 2, value_names = ["W", "H"])]
    pub size: Option<Vec<u32>>,
    /// Colour image (PNG).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Depth (16-bit PNG, millimetres).
    #[arg(long)]
    pub depth: Option<PathBuf>,
    /// Instance segmentation (PNG, one colour per id).
    #[arg(long)]
    pub seg: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: RenderArgs) -> Result<ExitCode> {
    let scenario = load_scenario(&a.scenario)?;
    let mut spec = match &a.camera {
        Some(name) => scenario
            .cameras
            .iter()
            .find(|c| &c.name == name)
            .cloned()
            .with_context(|| format!("{} has no camera '{name}'", a.scenario.display()))?,
        None => scenario
            .cameras
            .first()
            .cloned()
            .unwrap_or_else(CameraSpec::front_of_table),
    };
    if let Some(s) = &a.size {
        // The renderer allocates and casts rays for every pixel: an unchecked size aborts.
        embody_sim::camera_spec::check_size(s[0], s[1])
            .with_context(|| format!("--size {} {}", s[0], s[1]))?;
        spec.width = s[0];
        spec.height = s[1];
    }
    let (mut errors, mut seen, mut total, mut render_s) = (Vec::new(), 0usize, 0usize, 0.0);
    let end = a.seed.checked_add(a.seeds.max(1)).with_context(|| {
        format!(
            "--seed {} --seeds {}: the seeds run past {}",
            a.seed,
            a.seeds,
            u64::MAX
        )
    })?;
    for seed in a.seed..end {
        let world = World::new(Arc::new((*scenario).clone()), seed)?;
        let t = Instant::now();
        let frame = render(&world, &spec).with_context(|| format!("camera {:?}", spec.name))?;
        render_s += t.elapsed().as_secs_f64();
        if seed == a.seed {
            write_pngs(
                &frame,
                a.out.as_deref(),
                a.depth.as_deref(),
                a.seg.as_deref(),
            )
            .context("cannot write the images")?;
        }
        let infos = world.object_infos();
        let mut perception = CameraPerception::new(infos, world.containers.clone(), 0.0);
        let mut robot = SimRobot::new(world);
        let mut obs = robot
            .observe()
            .context("cannot observe the simulated robot")?;
        obs.camera = Some(Arc::new(frame));
        let scene = perception.perceive(&obs);
        for truth in obs.privileged.iter().flatten() {
            total += 1;
            if let Some(o) = scene.object(&truth.id) {
                seen += 1;
                errors.push(
                    (o.pose_in_base.translation.vector - truth.pose_in_base.translation.vector)
                        .norm()
                        * 1e3,
                );
            }
        }
    }
    let n = a.seeds.max(1) as f64;
    let mean = errors.iter().sum::<f64>() / errors.len().max(1) as f64;
    let max = errors.iter().copied().fold(0.0, f64::max);
    println!(
        "camera '{}' {}x{}, {} scene(s): {seen} of {total} objects seen; camera perception \
         position error mean {mean:.1} mm, max {max:.1} mm; {:.0} ms per frame ({:.1} FPS)",
        spec.name,
        spec.width,
        spec.height,
        a.seeds.max(1),
        render_s / n * 1e3,
        n / render_s
    );
    for (what, p) in [
        ("image", &a.out),
        ("depth", &a.depth),
        ("segmentation", &a.seg),
    ] {
        if let Some(p) = p {
            eprintln!("{what}: {}", p.display());
        }
    }
    if a.json {
        println!(
            "{}",
            json!({"camera": spec, "scenes": a.seeds.max(1), "objects": total, "seen": seen,
                   "error_mean_mm": mean, "error_max_mm": max, "render_ms": render_s / n * 1e3})
        );
    }
    Ok(ExitCode::SUCCESS)
}
