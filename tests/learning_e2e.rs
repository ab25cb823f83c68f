//! The learning pipeline end to end at toy scale: record demonstrations, build the dataset with
//! the runtime's feature code, train a few hundred steps in PyTorch, export, load the model in
//! Rust and run an episode with it. (Not expected to succeed at the task at this scale.)

mod common;

use common::{embody, embody_json, embody_ok};

/// Runs a Python check (the project's environment: numpy, pyarrow, pandas) on `path`.
fn python_check(script: &str, path: &std::path::Path) {
    let check = std::process::Command::new(common::python())
        .arg("-c")
        .arg(script)
        .arg(path)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn record_train_export_and_run_a_learned_policy() {
    let dir = tempfile::tempdir().unwrap();
    let demos = dir.path().join("demos");
    embody_ok(&[
        "record",
        "scenarios/table_clearing.toml",
        "--episodes",
        "3",
        "--seed",
        "500",
        "--quiet",
        "--out",
        demos.to_str().unwrap(),
    ]);

    let ds = embody_json(&["dataset", demos.to_str().unwrap(), "--json"]);
    assert_eq!(ds["episodes"], 3);
    // ~36 s of skills per episode at 10 Hz.
    let samples = ds["samples"].as_u64().unwrap();
    assert!((600..2000).contains(&samples), "{ds}");
    assert!(
        ds["segments"].as_u64().unwrap() >= 30,
        "ten skills per episode: {ds}"
    );

    // The features are in the skill frame (the default layout). What the expert did is what
    // the policy's features said it would: where it closes the gripper, its target is the
    // grasp the observation carries, at the frame's origin turned by nothing; where it opens
    // it, its target is over the drop spot, the place frame's origin. (A pick that nudges its
    // object before closing may leave the plan made at the skill's start behind; hence
    // percentiles, not every sample.)
    assert_eq!(ds["obs_fields"][0]["name"], "ee_pos_in_skill", "{ds}");
    python_check(
        r#"
import sys, numpy as np
d = sys.argv[1]
obs, act, seg = (np.load(f"{d}/{n}.npy").astype(np.float64) for n in ("obs", "action", "segment"))
def rot(v):
    a = v[:3] / np.linalg.norm(v[:3]); b = v[3:6] - a * (a @ v[3:6]); b /= np.linalg.norm(b)
    return np.stack([a, b, np.cross(a, b)], axis=1)
grasp_deg, spot_m, origin_m = [], [], []
for s in np.unique(seg):
    i = np.flatnonzero(seg == s); o, a = obs[i], act[i]
    if o[0, 10] == 1:  # pick
        k = np.flatnonzero(a[:, 9] < 0.04)[0]
        g = rot(o[k, 21:27]); t = rot(a[k, 3:9])
        grasp_deg.append(np.degrees(np.arccos(np.clip((np.trace(g.T @ t) - 1) / 2, -1, 1))))
        origin_m.append(np.linalg.norm(a[k, :2]))
    else:  # place
        k = np.flatnonzero(a[:, 9] > 0.04)[0]
        spot = o[k, 18:21]
        spot_m.append(np.linalg.norm(spot[:2] - a[k, :2]))
        origin_m.append(np.linalg.norm(a[k, :2]))
grasp_deg, spot_m = np.array(grasp_deg), np.array(spot_m)
assert len(grasp_deg) >= 15 and len(spot_m) >= 15, (len(grasp_deg), len(spot_m))
assert np.median(grasp_deg) < 1.0 and np.mean(grasp_deg < 3.0) >= 0.9, grasp_deg
assert np.median(spot_m) < 1e-3 and np.mean(spot_m < 5e-3) >= 0.9, spot_m
origin_m = np.array(origin_m)
assert np.median(origin_m) < 2e-3 and np.mean(origin_m < 1e-2) >= 0.9, origin_m
print("ok")
"#,
        &demos.join("dataset"),
    );

    // The same demonstrations in the LeRobot v3.0 layout, checked with pyarrow against what
    // lerobot 0.4 reads (verified once by loading with lerobot itself; see the README).
    let lerobot = dir.path().join("lerobot");
    let ex = embody_json(&[
        "export",
        "lerobot",
        demos.to_str().unwrap(),
        lerobot.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(ex["episodes"], 3);
    assert_eq!(ex["frames"], samples);
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(lerobot.join("meta/info.json")).unwrap())
            .unwrap();
    assert_eq!(info["codebase_version"], "v3.0");
    assert_eq!(info["total_frames"], samples);
    assert_eq!(info["features"]["observation.state"]["shape"][0], 33);
    assert_eq!(info["features"]["action"]["shape"][0], 10);
    python_check(
        r#"
import json, sys, pyarrow.parquet as pq, pandas as pd
root = sys.argv[1]
d = pq.read_table(root + "/data/chunk-000/file-000.parquet")
import pyarrow as pa
for c, n in [("observation.state", 33), ("action", 10)]:
    t = d.schema.field(c).type
    assert pa.types.is_fixed_size_list(t) and t.list_size == n and t.value_type == pa.float32(), (c, t)
for c, t in [("timestamp", "float"), ("frame_index", "int64"), ("episode_index", "int64"), ("index", "int64"), ("task_index", "int64")]:
    assert str(d.schema.field(c).type) == t, (c, d.schema.field(c).type)
e = pq.read_table(root + "/meta/episodes/chunk-000/file-000.parquet").to_pydict()
assert e["dataset_from_index"][0] == 0 and e["dataset_to_index"][-1] == d.num_rows
assert all(a == b for a, b in zip(e["dataset_to_index"][:-1], e["dataset_from_index"][1:]))
assert sum(e["length"]) == d.num_rows
assert e["tasks"][0][0].startswith("pick ")
t = pd.read_parquet(root + "/meta/tasks.parquet")
assert int(t.loc[e["tasks"][0][0]].task_index) == 0
s = json.load(open(root + "/meta/stats.json"))
assert set(s["action"]) == {"min", "max", "mean", "std", "count", "q01", "q10", "q50", "q90", "q99"}
assert s["action"]["count"] == [d.num_rows]
print("ok")
"#,
        &lerobot,
    );

    let model = dir.path().join("toy");
    let out = embody_ok(&[
        "train",
        demos.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
        "--steps",
        "200",
        "--down-dims",
        "16,32",
        "--batch",
        "64",
        "--",
        "--eval-every",
        "100",
        "--step-embed-dim",
        "16",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("step 200/200"), "{stdout}");
    for ext in ["onnx", "json", "loss.png", "train.json"] {
        assert!(
            dir.path().join(format!("toy.{ext}")).is_file(),
            "toy.{ext} missing"
        );
    }
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("toy.json")).unwrap())
            .unwrap();
    let t = &meta["training"];
    assert_eq!(t["data_hash"].as_str().unwrap().len(), 64, "{t}");
    assert_eq!(t["steps"], 200);
    assert!(t["command"].as_str().unwrap().contains("embody"), "{t}");
    // The commit of the repository it ran in (the script itself runs from the cache), when the
    // tests run in a checkout.
    let head = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if let Some(head) = head {
        let commit = t["commit"].as_str().unwrap_or_else(|| panic!("{t}"));
        assert!(commit.starts_with(&head), "{commit} vs {head}");
    }
    // Trained statistics, not the untrained defaults; the skill frame's features.
    assert_ne!(meta["normalization"]["action"]["max"][2], 0.7);
    assert_eq!(meta["obs"]["dim"], 30, "{meta}");
    assert_eq!(
        meta["action"]["fields"][0]["name"],
        "ee_target_pos_in_skill"
    );

    let spec = format!("diffusion:{}", dir.path().join("toy.json").display());
    let v = embody_json(&[
        "eval",
        "scenarios/table_clearing.toml",
        "--policy",
        &spec,
        "--seed",
        "7",
        "--json",
        "-q",
        "--plot",
        dir.path().join("eval.png").to_str().unwrap(),
    ]);
    assert_eq!(v["episodes"], 1);
    assert!(v["failed_attempts_by_kind"].is_object(), "{v}");
    assert!(
        std::fs::metadata(dir.path().join("eval.png"))
            .unwrap()
            .len()
            > 1000
    );

    // A correction round: the shipped policy drives, the expert takes over (before each chunk
    // with probability 0.3); only the expert's chunks of successful attempts become rows.
    let round = dir.path().join("rounds/round1");
    let rec = embody_json(&[
        "record",
        "scenarios/table_clearing.toml",
        "--policy",
        "diffusion:policies/models/table_clearing.json",
        "--takeover",
        "0.3",
        "--episodes",
        "2",
        "--seed",
        "900",
        "--quiet",
        "--json",
        "--out",
        round.to_str().unwrap(),
    ]);
    assert_eq!(rec["takeover"], 0.3, "{rec}");
    let rd = embody_json(&["dataset", round.to_str().unwrap(), "--json"]);
    let corrections = rd["correction_samples"].as_u64().unwrap();
    assert!(corrections > 100, "{rd}");
    assert_eq!(rd["samples"].as_u64().unwrap(), corrections, "{rd}");
    // Demonstrations and rounds in subfolders of one data folder train one policy.
    let all = embody_json(&["dataset", dir.path().to_str().unwrap(), "--json"]);
    assert_eq!(
        all["samples"].as_u64().unwrap(),
        samples + corrections,
        "{all}"
    );

    // A killed or time-limited training goes on from its checkpoint.
    let out = embody_ok(&[
        "train",
        demos.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
        "--steps",
        "300",
        "--resume",
        "--",
        "--eval-every",
        "100",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("resuming") && stdout.contains("step 300/300"),
        "{stdout}"
    );
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("toy.json")).unwrap())
            .unwrap();
    assert_eq!(meta["training"]["steps"], 300, "{}", meta["training"]);
    assert_eq!(meta["training"]["runs"], 2, "{}", meta["training"]);
    // The shape is the checkpoint's (the command line's default widths are not used).
    assert_eq!(meta["network"]["down_dims"], serde_json::json!([16, 32]));
    // A checkpoint goes on only on features in its own frame.
    let out = embody(&[
        "train",
        demos.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
        "--steps",
        "400",
        "--resume",
        "--layout",
        "base",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("skill-frame"),
        "{err}"
    );

    // The next round goes on from this model's checkpoint into a model of its own.
    let next = dir.path().join("toy_round1");
    embody_ok(&[
        "train",
        dir.path().to_str().unwrap(),
        "--out",
        next.to_str().unwrap(),
        "--steps",
        "350",
        "--from",
        dir.path().join("toy.pt").to_str().unwrap(),
    ]);
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("toy_round1.json")).unwrap())
            .unwrap();
    let t = &meta["training"];
    assert_eq!(t["steps"], 350, "{t}");
    assert_eq!(t["runs"], 3, "{t}");
    assert_eq!(t["commands"].as_array().unwrap().len(), 3, "{t}");
    // Where the data came from: episodes per folder (family or round) and the corrections.
    assert_eq!(t["correction_samples"], corrections, "{t}");
    assert_eq!(t["sources"]["demos"], 3, "{t}");
    assert_eq!(t["sources"]["rounds/round1"], rd["episodes"], "{t}");

    // On another machine the checkpoint is gone and only the exported model is left: training
    // goes on from its JSON and ONNX file (weights read back from the ONNX graph). With the
    // learning rate at nothing the network comes out as it went in, so the read-back is exact
    // and the normalization is the model's (on the demonstrations its normalization came from,
    // there is nothing to widen).
    let again = dir.path().join("toy_round2");
    let out = embody_ok(&[
        "train",
        demos.to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
        "--steps",
        "2",
        "--from",
        next.with_extension("json").to_str().unwrap(),
        "--",
        "--lr",
        "1e-30",
        "--eval-every",
        "1",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("starting from"), "{stdout}");
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(again.with_extension("json")).unwrap())
            .unwrap();
    let t = &meta["training"];
    assert_eq!(t["steps"], 2, "{t}");
    assert_eq!(t["total_steps"], 352, "{t}");
    assert_eq!(t["commands"].as_array().unwrap().len(), 4, "{t}");
    assert_eq!(meta["network"]["down_dims"], serde_json::json!([16, 32]));
    python_check(
        r#"
import sys, json, hashlib, pathlib, numpy as np, onnxruntime as ort
d = pathlib.Path(sys.argv[1])
a, b = (json.loads((d / f"{n}.json").read_text()) for n in ("toy_round1", "toy_round2"))
assert a["normalization"] == b["normalization"]
init = b["training"]["init_model"]
assert init["onnx_sha256"] == hashlib.sha256((d / "toy_round1.onnx").read_bytes()).hexdigest(), init
rng = np.random.default_rng(0)
feed = {"sample": rng.standard_normal((3, a["action"]["pred_horizon"], a["action"]["dim"])).astype(np.float32),
        "timestep": np.array([0, 40, 90], np.int64),
        "global_cond": rng.uniform(-1, 1, (3, a["obs"]["horizon"] * a["obs"]["dim"])).astype(np.float32)}
x, y = (ort.InferenceSession(str(d / f"{n}.onnx")).run(None, feed)[0] for n in ("toy_round1", "toy_round2"))
gap = float(np.abs(x - y).max())
assert gap < 1e-4 and np.abs(x).max() > 0.1, (gap, np.abs(x).max())
print("ok", gap)
"#,
        dir.path(),
    );
    // A distilled model predicts chunks, not noise: it is not a denoiser to go on training.
    let out = embody(&[
        "train",
        dir.path().to_str().unwrap(),
        "--out",
        dir.path().join("never").to_str().unwrap(),
        "--from",
        "policies/models/table_clearing_consistency.json",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("distilled model"),
        "{err}"
    );
}

/// `embody train --nproc 2`: two processes under torchrun with DDP (gloo on this CPU), which
/// check at the end that their weights are identical; rank 0 exports a model that loads.
#[test]
fn two_training_processes_export_a_model_that_runs() {
    let dir = tempfile::tempdir().unwrap();
    let demos = dir.path().join("demos");
    embody_ok(&[
        "record",
        "scenarios/table_clearing.toml",
        "--episodes",
        "2",
        "--seed",
        "640",
        "--quiet",
        "--out",
        demos.to_str().unwrap(),
    ]);
    let model = dir.path().join("ddp");
    let out = embody_ok(&[
        "train",
        demos.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
        "--nproc",
        "2",
        "--steps",
        "60",
        "--down-dims",
        "16,32",
        "--batch",
        "32",
        "--",
        "--eval-every",
        "30",
        "--step-embed-dim",
        "16",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("2 processes of 16, DDP gloo") && stdout.contains("step 60/60"),
        "{stdout}"
    );
    // Rank 0 alone printed.
    assert_eq!(stdout.matches("step 60/60").count(), 1, "{stdout}");
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("ddp.json")).unwrap())
            .unwrap();
    assert_eq!(meta["training"]["processes"], 2, "{}", meta["training"]);
    assert_eq!(meta["training"]["batch"], 32);
    let spec = format!("diffusion:{}", dir.path().join("ddp.json").display());
    let v = embody_json(&[
        "eval",
        "scenarios/table_clearing.toml",
        "--policy",
        &spec,
        "--seed",
        "7",
        "--json",
        "-q",
    ]);
    assert_eq!(v["episodes"], 1, "{v}");
}

/// `embody distill` at toy scale: the shipped model (its weights read back from its ONNX file)
/// teaches a student on two recorded episodes; the student is exported as a consistency model
/// that loads, runs an episode in one and in two steps, and a stopped distillation resumes.
#[test]
fn distill_the_shipped_model_into_a_fast_sampler() {
    let dir = tempfile::tempdir().unwrap();
    let demos = dir.path().join("demos");
    embody_ok(&[
        "record",
        "scenarios/table_clearing.toml",
        "--episodes",
        "2",
        "--seed",
        "510",
        "--quiet",
        "--out",
        demos.to_str().unwrap(),
    ]);
    let model = dir.path().join("fast");
    let distill = |steps: &str, resume: bool| {
        let mut args = vec![
            "distill",
            "policies/models/table_clearing.json",
            demos.to_str().unwrap(),
            "--out",
            model.to_str().unwrap(),
            "--steps",
            steps,
            "--pairs",
            "512",
        ];
        if resume {
            args.push("--resume");
        }
        args.extend([
            "--",
            "--val-pairs",
            "64",
            "--eval-every",
            "20",
            "--batch",
            "32",
        ]);
        let out = embody_ok(&args);
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let stdout = distill("40", false);
    assert!(
        stdout.contains("PyTorch copy within") && stdout.contains("step 40/40"),
        "{stdout}"
    );
    for ext in ["onnx", "json", "loss.png", "train.json"] {
        assert!(
            dir.path().join(format!("fast.{ext}")).is_file(),
            "fast.{ext} missing"
        );
    }
    let read = || -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("fast.json")).unwrap())
            .unwrap()
    };
    let meta = read();
    let s = &meta["scheduler"];
    assert_eq!(s["kind"], "consistency", "{s}");
    assert_eq!(s["prediction_type"], "sample", "{s}");
    assert_eq!(meta["network"]["outputs"][0], "sample_pred");
    let ts = s["consistency_timesteps"].as_array().unwrap();
    assert_eq!(ts.len(), 2, "{s}");
    assert_eq!(ts[0], 90, "the teacher's DDIM-10 starts at 90: {s}");
    let t = &meta["training"];
    assert_eq!(t["teacher"], "policies/models/table_clearing.json", "{t}");
    // 512 asked; at most one per training window (one of the two episodes is validation).
    let pairs = t["pairs"].as_u64().unwrap();
    assert!((100..=512).contains(&pairs), "{t}");
    assert!(t["teacher_spread_mse"].as_f64().unwrap() > 0.0, "{t}");
    // The teacher's normalization and base-frame layout, kept.
    let teacher: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("policies/models/table_clearing.json").unwrap(),
    )
    .unwrap();
    assert_eq!(meta["normalization"], teacher["normalization"]);
    assert_eq!(meta["obs"], teacher["obs"]);

    // Resumed from its checkpoint (the teacher's trajectories reused) up to a later step.
    let stdout = distill("60", true);
    assert!(
        stdout.contains("resuming") && stdout.contains("step 60/60"),
        "{stdout}"
    );
    assert_eq!(read()["training"]["steps"], 60);

    let spec = format!("diffusion:{}", model.with_extension("json").display());
    for steps in ["1", "2"] {
        let v = embody_json(&[
            "eval",
            "scenarios/table_clearing.toml",
            "--policy",
            &spec,
            "--denoise-steps",
            steps,
            "--seed",
            "7",
            "--json",
            "-q",
        ]);
        assert_eq!(v["episodes"], 1, "{v}");
    }
    // A DDIM sampler on the distilled network is refused at load, naming both sides.
    let out = common::embody(&[
        "eval",
        "scenarios/table_clearing.toml",
        "--policy",
        &spec,
        "--sampler",
        "ddim",
        "--seed",
        "7",
        "-q",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ddim") && err.contains("'sample'"), "{err}");
}
