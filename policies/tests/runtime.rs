//! The diffusion runtime against PyTorch and diffusers: golden tensors written by
//! policies/train/export.py (tests/data/tiny.*), and models that must be refused.

use std::path::{Path, PathBuf};

use embody_agent::PolicyError;
use embody_policies::{
    DiffusionOptions, DiffusionPolicy, LoadError, NetworkPool, RuntimeOptions, SamplerKind,
};
use serde_json::Value;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn golden() -> Value {
    golden_of("tiny.golden.json")
}

fn golden_of(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(data(name)).unwrap()).unwrap()
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// `EMBODY_TEST_DEVICE=cuda` (scripts/gpu-check.sh) runs the golden tests on the GPU.
fn runtime() -> RuntimeOptions {
    RuntimeOptions {
        device: std::env::var("EMBODY_TEST_DEVICE")
            .ok()
            .map(|d| d.parse().unwrap())
            .unwrap_or_default(),
        ..Default::default()
    }
}

fn load(sampler: SamplerKind, steps: usize) -> DiffusionPolicy {
    DiffusionPolicy::load(
        &data("tiny.json"),
        DiffusionOptions {
            runtime: runtime(),
            sampler: Some(sampler),
            steps: Some(steps),
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// The largest difference between the network's output on a golden call's batch and PyTorch's
/// `output` for it.
fn network_call_diff(p: &mut DiffusionPolicy, g: &Value, output: &str) -> f32 {
    let t: Vec<i64> = g["timestep"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let out = p
        .denoise(&floats(&g["sample"]), &t, &floats(&g["global_cond"]))
        .unwrap();
    max_diff(&out, &floats(&g[output]))
}

#[test]
fn denoiser_matches_pytorch() {
    let g = &golden()["denoiser"];
    let mut p = load(SamplerKind::Ddim, 10);
    let d = network_call_diff(&mut p, g, "noise_pred");
    assert!(d <= 1e-5, "max abs diff {d}");
}

#[test]
fn ddim_sample_matches_diffusers() {
    let g = &golden()["ddim"];
    let mut p = load(SamplerKind::Ddim, 10);
    let out = p
        .sample_from(
            &floats(&g["global_cond"]),
            floats(&g["initial_noise"]),
            |_| unreachable!("DDIM draws no noise"),
        )
        .unwrap();
    let d = max_diff(&out, &floats(&g["sample"]));
    assert!(d <= 1e-5, "max abs diff {d}");
}

#[test]
fn ddpm_sample_matches_diffusers() {
    let g = &golden()["ddpm"];
    let steps = g["steps"].as_u64().unwrap() as usize;
    let mut p = load(SamplerKind::Ddpm, steps);
    let mut noise = g["step_noise"].as_array().unwrap().iter().map(floats);
    let out = p
        .sample_from(
            &floats(&g["global_cond"]),
            floats(&g["initial_noise"]),
            |_| noise.next().unwrap(),
        )
        .unwrap();
    let d = max_diff(&out, &floats(&g["sample"]));
    assert!(d <= 1e-5, "max abs diff {d}");
}

fn load_consistency(steps: usize) -> DiffusionPolicy {
    DiffusionPolicy::load(
        &data("tiny_consistency.json"),
        DiffusionOptions {
            runtime: runtime(),
            steps: Some(steps),
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// A distilled (consistency) network: its call, and its one- and two-step chunks, against
/// PyTorch running export.py's reference of the same sampler.
#[test]
fn consistency_sampler_matches_pytorch() {
    let g = golden_of("tiny_consistency.golden.json");
    let n = &g["network"];
    let mut p = load_consistency(1);
    let d = network_call_diff(&mut p, n, "sample_pred");
    assert!(d <= 1e-5, "network: max abs diff {d}");
    for steps in [1, 2] {
        let c = &g[format!("consistency{steps}")];
        let mut p = load_consistency(steps);
        let out = p
            .sample_from(
                &floats(&c["global_cond"]),
                floats(&c["initial_noise"]),
                |_| unreachable!("a consistency sampler draws no noise"),
            )
            .unwrap();
        let d = max_diff(&out, &floats(&c["sample"]));
        assert!(d <= 1e-5, "{steps} steps: max abs diff {d}");
    }
    // The two differ: the second step is not a no-op.
    let one = floats(&g["consistency1"]["sample"]);
    let two = floats(&g["consistency2"]["sample"]);
    assert!(max_diff(&one, &two) > 1e-3);
}

/// A sampler the network was not trained for is refused at load, with the reason.
#[test]
fn samplers_and_networks_must_match() {
    let with = |json: &str, sampler, steps| {
        DiffusionPolicy::load(
            &data(json),
            DiffusionOptions {
                sampler: Some(sampler),
                steps: Some(steps),
                ..Default::default()
            },
        )
        .err()
        .map(|e| e.to_string())
    };
    let e = with("tiny_consistency.json", SamplerKind::Ddim, 10).expect("ddim on a distilled net");
    assert!(e.contains("ddim") && e.contains("'sample'"), "{e}");
    let e = with("tiny.json", SamplerKind::Consistency, 1).expect("consistency on a denoiser");
    assert!(e.contains("consistency") && e.contains("'epsilon'"), "{e}");
    let e = with("tiny_consistency.json", SamplerKind::Consistency, 3).expect("3 of 2 timesteps");
    assert!(
        e.contains("3 inference steps") && e.contains("[90, 50]"),
        "{e}"
    );
    assert!(with("tiny_consistency.json", SamplerKind::Consistency, 2).is_none());
}

/// A policy made from the pool takes a network loaded before and gives it back when dropped;
/// what it samples is what a freshly loaded one samples. A policy run another way (other
/// steps) does not take it.
#[test]
fn pooled_networks_are_reused_and_sample_like_fresh_ones() {
    let g = &golden()["ddim"];
    let options = |steps| DiffusionOptions {
        runtime: runtime(),
        sampler: Some(SamplerKind::Ddim),
        steps: Some(steps),
        ..Default::default()
    };
    let sample = |p: &mut DiffusionPolicy| {
        p.sample_from(
            &floats(&g["global_cond"]),
            floats(&g["initial_noise"]),
            |_| unreachable!("DDIM draws no noise"),
        )
        .unwrap()
    };
    let pool = NetworkPool::new();
    let first = DiffusionPolicy::load_pooled(&data("tiny.json"), options(10), &pool).unwrap();
    assert_eq!(pool.free(), 0);
    drop(first);
    assert_eq!(pool.free(), 1, "a dropped policy gives its network back");
    let mut reused = DiffusionPolicy::load_pooled(&data("tiny.json"), options(10), &pool).unwrap();
    assert_eq!(pool.free(), 0, "the next policy takes it");
    let other = DiffusionPolicy::load_pooled(&data("tiny.json"), options(5), &pool).unwrap();
    assert_eq!(pool.free(), 0, "other steps load their own network");
    drop(other);
    assert_eq!(pool.free(), 1);
    let mut fresh = load(SamplerKind::Ddim, 10);
    assert_eq!(sample(&mut reused), sample(&mut fresh));
    assert!(max_diff(&sample(&mut reused), &floats(&g["sample"])) <= 1e-5);
    drop(reused);
    assert_eq!(pool.free(), 2);
}

fn load_err(json: &Path) -> String {
    match DiffusionPolicy::load(json, DiffusionOptions::default()) {
        Ok(_) => panic!("{} should have been refused", json.display()),
        Err(e) => e.to_string(),
    }
}

/// A copy of the tiny model in a temp dir, with its metadata edited by `edit`.
fn edited(dir: &Path, edit: impl FnOnce(&mut Value)) -> PathBuf {
    std::fs::copy(data("tiny.onnx"), dir.join("tiny.onnx")).unwrap();
    let mut meta: Value =
        serde_json::from_str(&std::fs::read_to_string(data("tiny.json")).unwrap()).unwrap();
    edit(&mut meta);
    let path = dir.join("tiny.json");
    std::fs::write(&path, serde_json::to_string(&meta).unwrap()).unwrap();
    path
}

#[test]
fn bad_models_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let e = load_err(&dir.path().join("nothing.json"));
    assert!(
        e.contains("nothing.json") && e.contains("does not exist"),
        "{e}"
    );

    // The graph predicts 16 steps; metadata claiming 8 must name both.
    let p = edited(dir.path(), |m| m["action"]["pred_horizon"] = 8.into());
    let e = load_err(&p);
    assert!(
        e.contains("sample") && e.contains("16") && e.contains("8"),
        "{e}"
    );

    // Three observations of history do not fit the graph's global_cond.
    let p = edited(dir.path(), |m| m["obs"]["horizon"] = 3.into());
    let e = load_err(&p);
    assert!(
        e.contains("global_cond") && e.contains("66") && e.contains("99"),
        "{e}"
    );

    let p = edited(dir.path(), |m| m["opset"] = 13.into());
    let e = load_err(&p);
    assert!(e.contains("opset 13"), "{e}");

    let p = edited(dir.path(), |m| {
        m["obs"]["fields"][0]["name"] = "ee_position".into()
    });
    let e = load_err(&p);
    assert!(
        e.contains("ee_position") && e.contains("ee_pos_in_base"),
        "{e}"
    );

    let p = edited(dir.path(), |m| {
        m["scheduler"]["prediction_type"] = "sample".into()
    });
    let e = load_err(&p);
    assert!(e.contains("prediction_type"), "{e}");

    let p = edited(dir.path(), |m| {
        m["normalization"]["action"]["min"] = serde_json::json!([0.0])
    });
    let e = load_err(&p);
    assert!(e.contains("normalization.action"), "{e}");

    let p = edited(dir.path(), |m| {
        m.as_object_mut().unwrap().remove("scheduler");
    });
    let e = load_err(&p);
    assert!(e.contains("scheduler"), "{e}");

    // A truncated ONNX file.
    let p = edited(dir.path(), |_| {});
    let bytes = std::fs::read(data("tiny.onnx")).unwrap();
    std::fs::write(dir.path().join("tiny.onnx"), &bytes[..bytes.len() / 3]).unwrap();
    let e = load_err(&p);
    assert!(matches!(
        DiffusionPolicy::load(&p, DiffusionOptions::default()),
        Err(LoadError::Model { .. })
    ));
    assert!(e.contains("tiny.onnx"), "{e}");

    // The metadata names an ONNX file that is not there.
    let p = edited(dir.path(), |m| m["onnx"] = "gone.onnx".into());
    let e = load_err(&p);
    assert!(
        e.contains("gone.onnx") && e.contains("does not exist"),
        "{e}"
    );
}

#[test]
fn a_missing_runtime_library_is_a_clear_error() {
    let e = match DiffusionPolicy::load(
        &data("tiny.json"),
        DiffusionOptions {
            runtime: RuntimeOptions {
                library: Some("/nonexistent/libonnxruntime.so".into()),
                ..Default::default()
            },
            ..Default::default()
        },
    ) {
        Ok(_) => panic!("loaded without a library"),
        Err(e) => e.to_string(),
    };
    assert!(
        e.contains("/nonexistent/libonnxruntime.so") && e.contains("--ort-lib"),
        "{e}"
    );
}

#[test]
fn nan_from_the_network_is_an_error_not_a_motion() {
    let mut p = DiffusionPolicy::load(&data("nan.json"), DiffusionOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let cond = vec![0.0; 66];
    let e = p
        .sample_from(&cond, vec![0.0; 160], |_| unreachable!())
        .unwrap_err();
    assert!(matches!(e, PolicyError::InvalidOutput(_)), "{e}");
    assert!(e.to_string().contains("NaN"), "{e}");
}

/// Guidance steers the sampled chunk out of a keep-out box that the unguided chunk runs
/// through, and changes nothing when no cost is violated.
#[test]
fn guidance_pulls_the_chunk_out_of_a_keep_out_box() {
    use embody_agent::{SceneGraph, SceneObject, ShapeKind, Skill};
    use embody_policies::guidance::GuidanceConfig;
    use nalgebra::{Isometry3, Vector3};
    let mut p = load(SamplerKind::Ddim, 10);
    let meta = p.meta().clone();
    let (tp, da) = (meta.action.pred_horizon, meta.action.dim);
    let cond = vec![0.1f32; meta.obs.horizon * meta.obs.dim];
    let noise: Vec<f32> = (0..tp * da)
        .map(|i| ((i * 31 % 17) as f32 - 8.0) / 8.0)
        .collect();
    let free = p.sample_from(&cond, noise.clone(), |_| Vec::new()).unwrap();
    let positions = |x: &[f32]| -> Vec<Vector3<f64>> {
        // Denormalized through the model's statistics, as the policy does.
        let st = &meta.normalization.action;
        x.chunks(da)
            .map(|r| {
                Vector3::from_fn(|k, _| {
                    let (lo, hi) = (st.min[k] as f64, st.max[k] as f64);
                    (r[k] as f64 + 1.0) / 2.0 * (hi - lo) + lo
                })
            })
            .collect()
    };
    let free_p = positions(&free);
    // A 4 cm box around one action of the unguided chunk, standing on a table far below.
    let mid = free_p[tp / 2];
    let half = 0.02;
    let size = Vector3::new(2.0 * half, 2.0 * half, 2.0 * half);
    let obstacle = SceneObject {
        id: "obstacle".into(),
        class: "box".into(),
        color: "grey".into(),
        shape: ShapeKind::Box,
        pose_in_base: Isometry3::translation(mid.x, mid.y, mid.z),
        extents: size,
    };
    let far = SceneObject {
        id: "target".into(),
        pose_in_base: Isometry3::translation(mid.x + 5.0, mid.y, mid.z),
        ..obstacle.clone()
    };
    let scene = SceneGraph {
        stamp: 0.0,
        objects: vec![obstacle, far],
        containers: vec![],
        table_height_m: mid.z - 10.0,
    };
    let skill = Skill::Pick {
        object: "target".into(),
    };
    let cfg = GuidanceConfig {
        strength: 1.0,
        object_margin_m: 0.0,
        reach_min_m: 0.0,
        reach_max_m: 1e9,
        ..Default::default()
    };
    // Inside by more than float rounding through the normalization.
    let inside = |ps: &[Vector3<f64>]| {
        ps.iter()
            .filter(|q| {
                let d = *q - mid;
                d.iter().all(|c| c.abs() < half - 1e-4)
            })
            .count()
    };
    assert!(
        inside(&free_p) >= 1,
        "the unguided chunk runs through the box"
    );
    let guided = p
        .sample_guided(&cond, noise.clone(), &scene, &skill, &cfg)
        .unwrap();
    assert_eq!(
        inside(&positions(&guided)),
        0,
        "guided: {:?}",
        positions(&guided)
    );
    // Nothing violated (the obstacle far away): exactly the unguided chunk.
    let calm = SceneGraph {
        objects: vec![scene.objects[1].clone()],
        ..scene.clone()
    };
    let same = p.sample_guided(&cond, noise, &calm, &skill, &cfg).unwrap();
    assert_eq!(same, free);
}
