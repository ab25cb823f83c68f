//! `embody bench policy`: the diffusion policy's network and DDIM chunk through Rust + ort,
//! against PyTorch eager and onnxruntime-python running the same weights in the same run, and
//! the fast (distilled, one- or two-call) sampler's chunk on the same network.

use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use embody_policies::{Device, DiffusionOptions, DiffusionPolicy, RuntimeOptions, SamplerKind};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde_json::{json, Value};

use super::common::python;

#[derive(Args)]
pub struct PolicyBench {
    /// Timed runs per figure (after 10 warm-up runs).
    #[arg(long, default_value_t = 200)]
    pub runs: usize,
    /// Threads inside one operator, for every backend.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// U-Net widths of the benchmarked denoiser (64,128,256 is 4.7M parameters).
    #[arg(long, default_value = "64,128,256")]
    pub down_dims: String,
    #[arg(long, value_name = "PATH")]
    pub ort_lib: Option<PathBuf>,
    #[arg(long, default_value = "cpu")]
    pub device: Device,
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy)]
struct Timing {
    min_ms: f64,
    median_ms: f64,
}

fn timed(runs: usize, mut f: impl FnMut() -> Result<()>) -> Result<Timing> {
    for _ in 0..10 {
        f()?;
    }
    let mut ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t0 = Instant::now();
        f()?;
        ms.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    ms.sort_by(f64::total_cmp);
    Ok(Timing {
        min_ms: ms[0],
        median_ms: ms[ms.len() / 2],
    })
}

fn reference(v: &Value, backend: &str, what: &str) -> Result<Timing> {
    let t = &v[backend][what];
    Ok(Timing {
        min_ms: t["min_ms"]
            .as_f64()
            .with_context(|| format!("reference output lacks {backend}.{what}"))?,
        median_ms: t["median_ms"]
            .as_f64()
            .with_context(|| format!("reference output lacks {backend}.{what}"))?,
    })
}

pub fn bench_policy(b: PolicyBench) -> Result<ExitCode> {
    if b.runs < 1 || b.threads < 1 {
        bail!("--runs and --threads must be at least 1");
    }
    let dir = tempfile::tempdir().context("cannot create a temporary folder")?;
    let script = crate::home::script("policies/train/bench_reference.py")?;
    let py = python()?;
    eprintln!("bench policy: exporting the model and timing PyTorch and onnxruntime-python ...");
    let out = Command::new(&py)
        .arg(&script)
        .arg("--out")
        .arg(dir.path())
        .args(["--runs", &b.runs.to_string()])
        .args(["--threads", &b.threads.to_string()])
        .args(["--down-dims", &b.down_dims])
        .output()
        .with_context(|| format!("cannot run {}", py.display()))?;
    if !out.status.success() {
        bail!(
            "the PyTorch reference failed ({}):\n{}\nInstall PyTorch with `scripts/setup.sh --train`.",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let r: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .with_context(|| format!("unexpected output from {}: {stdout}", script.display()))?;

    eprintln!("bench policy: timing Rust + ort ...");
    // A model the reference exported, loaded for this benchmark's runtime and sampler.
    let load = |name: &str, sampler, steps| {
        DiffusionPolicy::load(
            &dir.path().join(name),
            DiffusionOptions {
                runtime: RuntimeOptions {
                    library: b.ort_lib.clone(),
                    intra_threads: b.threads,
                    device: b.device,
                },
                sampler: Some(sampler),
                steps: Some(steps),
                seed: 0,
                pipeline: false,
                ..DiffusionOptions::default()
            },
        )
    };
    let mut policy = load("bench.json", SamplerKind::Ddim, 10)?;
    let meta = policy.meta().clone();
    let n = meta.action.pred_horizon * meta.action.dim;
    let cond = vec![0.0f32; meta.obs.horizon * meta.obs.dim];
    let sample = vec![0.1f32; n];
    let call = timed(b.runs, || {
        policy.denoise(&sample, &[50], &cond)?;
        Ok(())
    })?;
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let chunk = timed(b.runs, || {
        let noise: Vec<f32> = (0..n).map(|_| StandardNormal.sample(&mut rng)).collect();
        policy.sample_from(&cond, noise, |_| Vec::new())?;
        Ok(())
    })?;

    // The fast sampler: the same network distilled (bench_fast: the weights do not change what
    // a call costs), one and two calls per chunk.
    let fast_chunk = |steps: usize| -> Result<Timing> {
        let mut fast = load("bench_fast.json", SamplerKind::Consistency, steps)?;
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        timed(b.runs, || {
            let noise: Vec<f32> = (0..n).map(|_| StandardNormal.sample(&mut rng)).collect();
            fast.sample_from(&cond, noise, |_| Vec::new())?;
            Ok(())
        })
    };
    let fast1 = fast_chunk(1)?;
    let fast2 = fast_chunk(2)?;

    // Guidance's cost: the same chunk steered by the keep-out, table, workspace and reach costs
    // of a cluttered table (nine 5 cm boxes on a grid and a bin: 8 keep-out boxes, 4 walls).
    let scene = bench_scene();
    let skill = embody_agent::Skill::Pick {
        object: scene.objects[4].id.clone(),
    };
    let guidance = embody_policies::guidance::GuidanceConfig {
        workspace: Some((
            nalgebra::Vector3::new(0.2, -0.6, 0.0),
            nalgebra::Vector3::new(0.85, 0.6, 0.7),
        )),
        ..Default::default()
    };
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let guided = timed(b.runs, || {
        let noise: Vec<f32> = (0..n).map(|_| StandardNormal.sample(&mut rng)).collect();
        policy.sample_guided(&cond, noise, &scene, &skill, &guidance)?;
        Ok(())
    })?;

    let torch_call = reference(&r, "pytorch_eager", "call")?;
    let torch_chunk = reference(&r, "pytorch_eager", "ddim10")?;
    let ortpy_call = reference(&r, "onnxruntime_python", "call")?;
    let ortpy_chunk = reference(&r, "onnxruntime_python", "ddim10")?;
    let params = r["parameters"].as_u64().unwrap_or(0);
    println!(
        "denoiser: {:.1}M parameters, batch 1, {} thread(s), {} runs, device {:?}",
        params as f64 / 1e6,
        b.threads,
        b.runs,
        b.device
    );
    println!(
        "{:<22}{:>20}{:>22}",
        "", "one call (ms)", "DDIM-10 chunk (ms)"
    );
    println!("{:<22}{:>20}{:>22}", "", "min / median", "min / median");
    for (name, c, k) in [
        ("Rust + ort", call, chunk),
        ("onnxruntime-python", ortpy_call, ortpy_chunk),
        ("PyTorch eager", torch_call, torch_chunk),
    ] {
        println!(
            "{name:<22}{:>11.2} / {:<7.2}{:>13.2} / {:<7.2}",
            c.min_ms, c.median_ms, k.min_ms, k.median_ms
        );
    }
    let vs_torch = torch_chunk.median_ms / chunk.median_ms;
    let vs_ortpy = ortpy_chunk.median_ms / chunk.median_ms;
    println!(
        "DDIM-10 median speed-up of Rust + ort: {vs_torch:.2}x PyTorch eager, {vs_ortpy:.2}x onnxruntime-python"
    );
    println!(
        "fast sampler (distilled, same network): 1 step {:.2} / {:.2} ms, 2 steps {:.2} / {:.2} ms; \
         PyTorch eager DDIM-10 median / 1-step median: {:.1}x",
        fast1.min_ms,
        fast1.median_ms,
        fast2.min_ms,
        fast2.median_ms,
        torch_chunk.median_ms / fast1.median_ms
    );
    let guided_ratio = guided.median_ms / chunk.median_ms;
    println!(
        "DDIM-10 with guidance ({} costs): {:.2} / {:.2} ms, {guided_ratio:.3}x the unguided median",
        embody_policies::guidance::costs_for(&scene, &skill, &guidance).len(),
        guided.min_ms,
        guided.median_ms
    );
    if b.json {
        let t = |t: Timing| json!({"min_ms": t.min_ms, "median_ms": t.median_ms});
        let summary = json!({
            "bench": "policy",
            "parameters": params,
            "threads": b.threads,
            "runs": b.runs,
            "device": format!("{:?}", b.device).to_lowercase(),
            "rust_ort": {"call": t(call), "ddim10": t(chunk), "ddim10_guided": t(guided)},
            "rust_ort_fast": {"consistency1": t(fast1), "consistency2": t(fast2)},
            "ratio_fast_chunk_vs_pytorch_ddim10": torch_chunk.median_ms / fast1.median_ms,
            "ratio_fast2_chunk_vs_pytorch_ddim10": torch_chunk.median_ms / fast2.median_ms,
            "ratio_fast_chunk_vs_rust_ddim10": chunk.median_ms / fast1.median_ms,
            "ratio_guided_vs_unguided_ddim10_median": guided_ratio,
            "onnxruntime_python": {"call": t(ortpy_call), "ddim10": t(ortpy_chunk)},
            "pytorch_eager": {"call": t(torch_call), "ddim10": t(torch_chunk)},
            "ratio_ddim10_median_vs_pytorch": vs_torch,
            "ratio_ddim10_median_vs_onnxruntime_python": vs_ortpy,
            "ratio_call_median_vs_pytorch": torch_call.median_ms / call.median_ms,
            "versions": {"torch": r["torch"], "onnxruntime": r["onnxruntime"]},
        });
        println!("{summary}");
    }
    Ok(ExitCode::SUCCESS)
}

/// A cluttered table for timing guidance: nine 5 cm boxes on a 3 x 3 grid and a bin.
fn bench_scene() -> embody_agent::SceneGraph {
    use embody_agent::{Container, SceneGraph, SceneObject, ShapeKind};
    use nalgebra::{Isometry3, Vector3};
    let objects = (0..9)
        .map(|i| SceneObject {
            id: format!("box_{i}"),
            class: "box".into(),
            color: "red".into(),
            shape: ShapeKind::Box,
            pose_in_base: Isometry3::translation(
                0.4 + 0.1 * (i / 3) as f64,
                -0.1 + 0.1 * (i % 3) as f64,
                0.025,
            ),
            extents: Vector3::new(0.05, 0.05, 0.05),
        })
        .collect();
    SceneGraph {
        stamp: 0.0,
        objects,
        containers: vec![Container {
            id: "bin".into(),
            class: "bin".into(),
            pose_in_base: Isometry3::translation(0.5, 0.35, 0.0),
            inner_extents: Vector3::new(0.28, 0.22, 0.1),
        }],
        table_height_m: 0.0,
    }
}
