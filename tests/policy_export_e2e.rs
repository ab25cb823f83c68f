//! The Python side of the diffusion policy in the loop: a model exported now by
//! policies/train/export.py (PyTorch + diffusers golden tensors) runs in Rust and matches, and
//! `embody bench policy` measures against PyTorch in the same run.

mod common;

use std::process::Command;

use common::{embody_json, python, repo};
use embody_policies::{DiffusionOptions, DiffusionPolicy, SamplerKind};

fn floats(v: &serde_json::Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

/// Exports a small random network with export.py (`args` after `--out DIR/NAME`) and returns
/// its golden tensors.
fn export_with_golden(dir: &std::path::Path, name: &str, args: &[&str]) -> serde_json::Value {
    let out = dir.join(name);
    let status = Command::new(python())
        .arg(repo().join("policies/train/export.py"))
        .args(["--out", out.to_str().unwrap()])
        .args([
            "--down-dims",
            "16,32,64",
            "--step-embed-dim",
            "16",
            "--golden",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{name}.golden.json"))).unwrap())
        .unwrap()
}

/// The largest difference between the chunk `p` samples from a golden case's inputs and the
/// chunk PyTorch sampled.
fn golden_diff(p: &mut DiffusionPolicy, g: &serde_json::Value) -> f32 {
    let x = p
        .sample_from(
            &floats(&g["global_cond"]),
            floats(&g["initial_noise"]),
            |_| unreachable!(),
        )
        .unwrap();
    x.iter()
        .zip(&floats(&g["sample"]))
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max)
}

#[test]
fn a_freshly_exported_model_matches_its_python_golden_tensors() {
    let dir = tempfile::tempdir().unwrap();
    let golden = export_with_golden(dir.path(), "fresh", &["--seed", "3"]);
    let mut p = DiffusionPolicy::load(
        &dir.path().join("fresh.json"),
        DiffusionOptions {
            sampler: Some(SamplerKind::Ddim),
            steps: Some(10),
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let d = golden_diff(&mut p, &golden["ddim"]);
    assert!(d <= 1e-5, "DDIM-10 max abs diff {d}");
    assert_eq!(p.meta().network.down_dims, vec![16, 32, 64]);
}

#[test]
fn bench_policy_reports_every_backend_and_the_ratios() {
    let v = embody_json(&[
        "bench",
        "policy",
        "--runs",
        "5",
        "--down-dims",
        "16,32",
        "--json",
    ]);
    for backend in ["rust_ort", "onnxruntime_python", "pytorch_eager"] {
        for what in ["call", "ddim10"] {
            let t = &v[backend][what];
            let (min, median) = (
                t["min_ms"].as_f64().unwrap(),
                t["median_ms"].as_f64().unwrap(),
            );
            assert!(min > 0.0 && min <= median, "{backend}.{what}: {t}");
        }
    }
    let ratio = v["ratio_ddim10_median_vs_pytorch"].as_f64().unwrap();
    let expect = v["pytorch_eager"]["ddim10"]["median_ms"].as_f64().unwrap()
        / v["rust_ort"]["ddim10"]["median_ms"].as_f64().unwrap();
    assert!((ratio - expect).abs() < 1e-9);
    // The fast sampler on the same network: one- and two-call chunks, and its ratio against
    // PyTorch's DDIM-10 from the same run.
    for steps in ["consistency1", "consistency2"] {
        let t = &v["rust_ort_fast"][steps];
        let (min, median) = (
            t["min_ms"].as_f64().unwrap(),
            t["median_ms"].as_f64().unwrap(),
        );
        assert!(min > 0.0 && min <= median, "{steps}: {t}");
    }
    let fast = v["ratio_fast_chunk_vs_pytorch_ddim10"].as_f64().unwrap();
    let expect = v["pytorch_eager"]["ddim10"]["median_ms"].as_f64().unwrap()
        / v["rust_ort_fast"]["consistency1"]["median_ms"]
            .as_f64()
            .unwrap();
    assert!((fast - expect).abs() < 1e-9);
}

/// export.py's distilled-model path (what distill.py calls): a network that predicts clean
/// chunks, exported now, samples in Rust as PyTorch samples it, in one step and in two.
#[test]
fn a_freshly_exported_distilled_model_matches_its_python_golden_tensors() {
    let dir = tempfile::tempdir().unwrap();
    let golden = export_with_golden(
        dir.path(),
        "fast",
        &[
            "--seed",
            "4",
            "--sampler",
            "consistency",
            "--consistency-timesteps",
            "90,30",
        ],
    );
    for steps in [1, 2] {
        let mut p = DiffusionPolicy::load(
            &dir.path().join("fast.json"),
            DiffusionOptions {
                steps: Some(steps),
                ..Default::default()
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.meta().scheduler.consistency_timesteps, Some(vec![90, 30]));
        let d = golden_diff(&mut p, &golden[format!("consistency{steps}")]);
        assert!(d <= 1e-5, "{steps} steps: max abs diff {d}");
    }
}
