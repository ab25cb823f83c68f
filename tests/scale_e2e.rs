//! Past one machine: `--shard I/N` plus `embody merge` equals the unsharded run; the rendered
//! Kubernetes Indexed Job and Slurm array script run exactly those shards; a real local Ray
//! cluster (a head and a worker node) runs them through scripts/ray_embody.py and retries a
//! failed shard.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{embody, embody_json, embody_ok, last_json, python, repo};
use serde_json::Value;

const SCENARIO: &str = "scenarios/table_clearing.toml";
/// The keys of a run's JSON measured on the wall clock; everything else must match exactly.
const WALL_CLOCK: [&str; 4] = ["wall_s", "threads", "sim_steps_per_s", "realtime_factor"];

fn without_wall_clock(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        for k in WALL_CLOCK {
            o.remove(k);
        }
        for list in ["results", "baseline_results"] {
            if let Some(Value::Array(items)) = o.get_mut(list) {
                for item in items {
                    if let Some(o) = item.as_object_mut() {
                        for k in WALL_CLOCK {
                            o.remove(k);
                        }
                    }
                }
            }
        }
    }
    v
}

fn assert_same_run(unsharded: &Value, merged: &Value) {
    assert!(
        unsharded["per_episode"].is_array() || unsharded["results"].is_array(),
        "{unsharded}"
    );
    let (a, b) = (
        without_wall_clock(unsharded.clone()),
        without_wall_clock(merged.clone()),
    );
    assert!(a == b, "merged differs from unsharded:\n{a}\n---\n{b}");
}

fn write(path: &Path, out: &std::process::Output) {
    std::fs::write(path, &out.stdout).unwrap();
}

#[test]
fn sharded_eval_with_families_and_baseline_merges_to_the_unsharded_run() {
    let dir = tempfile::tempdir().unwrap();
    let base = [
        "eval",
        SCENARIO,
        "scenarios/table_clearing_cluttered.toml",
        "--policy",
        "scripted",
        "--baseline",
        "scripted",
        "--episodes",
        "4",
        "--seed",
        "70",
        "--json",
        "-q",
    ];
    let unsharded = embody_json(&base);
    let mut files = Vec::new();
    for i in 0..3 {
        let shard = format!("{i}/3");
        let mut args = base.to_vec();
        args.extend(["--shard", &shard, "--threads", "1"]);
        let out = embody_ok(&args);
        let part = last_json(&out);
        assert_eq!(part["shard"]["index"], i);
        let path = dir.path().join(format!("s{i}.txt"));
        // The whole printed output, tables and all: merge reads the last JSON line.
        write(&path, &out);
        files.push(path.to_string_lossy().to_string());
    }
    // Shard 2/3 of 4 seeds holds one episode: the blocks are 2, 1, 1.
    let s2: Value = last_json(&embody_ok(&{
        let mut a = base.to_vec();
        a.extend(["--shard", "2/3"]);
        a
    }));
    assert_eq!(s2["results"][0]["episodes"], 1);

    let png = dir.path().join("merged.png");
    let mut args = vec!["merge"];
    args.extend(files.iter().map(String::as_str));
    args.extend(["--json", "--plot", png.to_str().unwrap()]);
    let merged = embody_json(&args);
    assert_same_run(&unsharded, &merged);
    assert!(std::fs::metadata(&png).unwrap().len() > 1000);

    // Refusals, each naming what is wrong.
    let refuse = |args: &[&str], what: &str| {
        let out = embody(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains(what),
            "{args:?}: {err}"
        );
    };
    refuse(&["merge", &files[0], &files[2]], "missing: 1/3");
    refuse(
        &["merge", &files[0], &files[1], &files[1], &files[2]],
        "given twice",
    );
    let other = dir.path().join("other.txt");
    let mut args = base.to_vec();
    args[8] = "5";
    args.extend(["--shard", "1/3"]);
    write(&other, &embody_ok(&args));
    refuse(
        &["merge", &files[0], other.to_str().unwrap(), &files[2]],
        "not shards of one run",
    );
    let plain = dir.path().join("plain.json");
    std::fs::write(&plain, serde_json::to_string(&unsharded).unwrap()).unwrap();
    refuse(&["merge", plain.to_str().unwrap()], "not a shard's output");
    // A shard whose rows were tampered with (a seed that is not its own).
    let mut bad = last_json(&embody_ok(&{
        let mut a = base.to_vec();
        a.extend(["--shard", "1/3"]);
        a
    }));
    bad["results"][0]["per_episode"][0]["seed"] = Value::from(71);
    let bad_path = dir.path().join("bad.json");
    std::fs::write(&bad_path, bad.to_string()).unwrap();
    refuse(
        &["merge", &files[0], bad_path.to_str().unwrap(), &files[2]],
        "should hold seeds 72 to 72",
    );
}

#[test]
fn sharded_recording_merges_to_the_unsharded_index() {
    let whole = tempfile::tempdir().unwrap();
    let sharded = tempfile::tempdir().unwrap();
    let args = |out: &Path| {
        vec![
            "record".to_string(),
            SCENARIO.into(),
            "--episodes".into(),
            "3".into(),
            "--seed".into(),
            "90".into(),
            "--out".into(),
            out.to_string_lossy().to_string(),
            "-q".into(),
        ]
    };
    let a: Vec<String> = args(whole.path());
    embody_ok(&a.iter().map(String::as_str).collect::<Vec<_>>());
    for i in 0..2 {
        let mut a = args(sharded.path());
        a.extend([
            "--shard".into(),
            format!("{i}/2"),
            "--threads".into(),
            "1".into(),
        ]);
        embody_ok(&a.iter().map(String::as_str).collect::<Vec<_>>());
    }
    let shard_files: Vec<String> = (0..2)
        .map(|i| {
            sharded
                .path()
                .join(format!("index.shard-{i:04}-of-0002.json"))
                .to_string_lossy()
                .to_string()
        })
        .collect();
    let line = embody_json(&["merge", &shard_files[1], &shard_files[0], "--json"]);
    assert_eq!(line["successes"], 3);
    let read = |p: &Path| -> Value {
        serde_json::from_str(&std::fs::read_to_string(p.join("index.json")).unwrap()).unwrap()
    };
    let strip = |mut v: Value| {
        let o = v.as_object_mut().unwrap();
        for k in ["wall_s", "threads", "core_s", "episodes_per_core_hour"] {
            assert!(o.remove(k).is_some(), "{k}");
        }
        v
    };
    assert_eq!(strip(read(whole.path())), strip(read(sharded.path())));
    // The same demonstrations, byte for byte.
    for seed in 90..93 {
        let name = format!("table_clearing_seed{seed:06}.mcap");
        let (x, y) = (
            std::fs::read(whole.path().join(&name)).unwrap(),
            std::fs::read(sharded.path().join(&name)).unwrap(),
        );
        assert!(x == y, "{name} differs");
    }
    // A second merge does not overwrite the index without --force.
    let out = embody(&["merge", &shard_files[0], &shard_files[1]]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
}

/// The run every scheduler test shards: 4 scripted episodes.
fn reference() -> (Vec<&'static str>, Value) {
    let base = vec![
        "eval",
        SCENARIO,
        "--policy",
        "scripted",
        "--episodes",
        "4",
        "--seed",
        "120",
    ];
    let mut args = base.clone();
    args.extend(["--json", "-q"]);
    (base, embody_json(&args))
}

fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_embody"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `PATH` with the embody under test first, as the container image or the cluster has it.
fn path_with_embody() -> String {
    format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn merge_dir(dir: &Path, shards: u64) -> Value {
    let files: Vec<String> = (0..shards)
        .map(|i| {
            dir.join(format!("shard-{i:04}-of-{shards:04}.json"))
                .to_string_lossy()
                .to_string()
        })
        .collect();
    let mut args = vec!["merge"];
    args.extend(files.iter().map(String::as_str));
    args.push("--json");
    embody_json(&args)
}

#[test]
fn kubernetes_and_slurm_jobs_run_the_shards_that_merge_to_the_unsharded_run() {
    let (base, unsharded) = reference();
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().to_string_lossy().to_string();

    // Kubernetes: the manifest, read by a YAML parser, is an Indexed Job of 2 completions whose
    // pod script, run with each JOB_COMPLETION_INDEX, writes the shards.
    let mut args = vec![
        "cluster",
        "k8s",
        "--shards",
        "2",
        "--parallelism",
        "1",
        "--out-dir",
        &out_dir,
        "--image",
        "registry.example/embody:1",
        "--",
    ];
    args.extend(&base);
    let manifest = embody_ok(&args).stdout;
    let mut parse = Command::new(python())
        .args([
            "-c",
            "import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    parse.stdin.take().unwrap().write_all(&manifest).unwrap();
    let parsed = parse.wait_with_output().unwrap();
    assert!(parsed.status.success());
    let job: Value = serde_json::from_slice(&parsed.stdout).unwrap();
    assert_eq!(job["kind"], "Job");
    assert_eq!(job["spec"]["completionMode"], "Indexed");
    assert_eq!(job["spec"]["completions"], 2);
    assert_eq!(job["spec"]["parallelism"], 1);
    let pod = &job["spec"]["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    let container = &pod["containers"][0];
    assert_eq!(container["image"], "registry.example/embody:1");
    assert_eq!(container["volumeMounts"][0]["mountPath"], out_dir.as_str());
    assert_eq!(container["command"], serde_json::json!(["/bin/sh", "-c"]));
    let script = container["args"][0].as_str().unwrap();
    for i in 0..2 {
        let status = Command::new("/bin/sh")
            .args(["-c", script])
            .env("JOB_COMPLETION_INDEX", i.to_string())
            .env("PATH", path_with_embody())
            .current_dir(repo())
            .status()
            .unwrap();
        assert!(status.success(), "pod {i}");
    }
    assert_same_run(&unsharded, &merge_dir(out.path(), 2));

    // Slurm: the array script, run as each array task, does the same.
    let slurm_out = tempfile::tempdir().unwrap();
    let slurm_dir = slurm_out.path().to_string_lossy().to_string();
    let workdir = repo().to_string_lossy().to_string();
    let embody_bin = env!("CARGO_BIN_EXE_embody");
    let mut args = vec![
        "cluster",
        "slurm",
        "--shards",
        "2",
        "--out-dir",
        &slurm_dir,
        "--workdir",
        &workdir,
        "--embody",
        embody_bin,
        "--",
    ];
    args.extend(&base);
    let script = String::from_utf8(embody_ok(&args).stdout).unwrap();
    assert!(script.starts_with("#!/bin/bash\n"));
    assert!(script.contains("\n#SBATCH --array=0-1\n"), "{script}");
    assert!(script.contains("\n#SBATCH --cpus-per-task=1\n"));
    let path = slurm_out.path().join("job.sbatch");
    std::fs::write(&path, &script).unwrap();
    for i in 0..2 {
        let status = Command::new("bash")
            .arg(&path)
            .env("SLURM_ARRAY_TASK_ID", i.to_string())
            .current_dir(slurm_out.path())
            .status()
            .unwrap();
        assert!(status.success(), "array task {i}");
    }
    assert_same_run(&unsharded, &merge_dir(slurm_out.path(), 2));

    let out = embody(&[
        "cluster",
        "slurm",
        "--shards",
        "2",
        "--out-dir",
        "/o",
        "--",
        "plan",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("run, eval or record"));
}

/// A Ray cluster of this test's own: a head and a worker node (1 CPU each) on loopback, in
/// their own temp folder; killed with every process they started when dropped.
struct RayCluster {
    temp: tempfile::TempDir,
    address: String,
}

fn ray_bin() -> PathBuf {
    python().with_file_name("ray")
}

impl RayCluster {
    fn start() -> RayCluster {
        // Ray's session paths go into socket names, which must stay short.
        let temp = tempfile::Builder::new()
            .prefix("ray")
            .tempdir_in("/tmp")
            .unwrap();
        let port = 20000 + std::process::id() % 20000;
        let address = format!("127.0.0.1:{port}");
        let common = [
            "--node-ip-address",
            "127.0.0.1",
            "--num-cpus",
            "1",
            "--disable-usage-stats",
            "--object-store-memory",
            "100000000",
        ];
        let cluster = RayCluster {
            temp,
            address: address.clone(),
        };
        let head = Command::new(ray_bin())
            .args(["start", "--head", "--port", &port.to_string()])
            .args(["--temp-dir", cluster.temp.path().to_str().unwrap()])
            .args(["--include-dashboard=false"])
            .args(common)
            .output()
            .expect("ray is installed in the project's venv (scripts/setup.sh)");
        assert!(
            head.status.success(),
            "ray head: {}",
            String::from_utf8_lossy(&head.stderr)
        );
        let worker = Command::new(ray_bin())
            .args(["start", "--address", &address])
            .args(common)
            .output()
            .unwrap();
        assert!(
            worker.status.success(),
            "ray worker: {}",
            String::from_utf8_lossy(&worker.stderr)
        );
        cluster
    }
}

/// Every process whose command line names `marker`, and all their descendants.
fn process_tree(marker: &str) -> Vec<u32> {
    let mut parent = Vec::new();
    let mut roots = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(marker) {
            roots.push(pid);
        }
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        // "pid (comm) state ppid ...": comm may hold spaces, so split after its ')'.
        if let Some(ppid) = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok())
        {
            parent.push((pid, ppid));
        }
    }
    let mut tree = roots;
    let mut i = 0;
    while i < tree.len() {
        let p = tree[i];
        for (child, pp) in &parent {
            if *pp == p && !tree.contains(child) {
                tree.push(*child);
            }
        }
        i += 1;
    }
    tree
}

impl Drop for RayCluster {
    fn drop(&mut self) {
        // Not `ray stop`: that stops every Ray on the machine, not just this test's.
        let pids = process_tree(self.temp.path().to_str().unwrap());
        for pid in pids {
            let _ = Command::new("kill")
                .args(["-9", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
    }
}

#[test]
fn ray_cluster_runs_the_shards_retries_a_failed_one_and_merges_to_the_unsharded_run() {
    let (base, unsharded) = reference();
    let cluster = RayCluster::start();
    let out = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(python());
    cmd.arg(repo().join("scripts/ray_embody.py"))
        .args(["--address", &cluster.address, "--shards", "3"])
        .args(["--out", out.path().to_str().unwrap()])
        .args(["--embody", env!("CARGO_BIN_EXE_embody")])
        .args(["--fail-first-attempt", "1", "--"])
        .args(&base)
        .current_dir(repo());
    let done = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert!(done.status.success(), "driver: {stderr}");
    assert!(
        stderr.contains("injected failure"),
        "the failed first attempt is reported: {stderr}"
    );
    let summary = last_json(&done);
    assert_eq!(summary["shards"], 3);
    assert_eq!(summary["retried"], serde_json::json!([1]), "{summary}");
    // 1 CPU per node: two shards at once can only run on two nodes.
    assert_eq!(summary["nodes"], 2, "{summary}");
    let merged: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("merged.json")).unwrap())
            .unwrap();
    assert_same_run(&unsharded, &merged);

    // A recording: the tasks write into the recording's folder (shared by the nodes; here one
    // machine) and the driver merges its index.
    let demos = tempfile::tempdir().unwrap();
    let results = tempfile::tempdir().unwrap();
    let done = Command::new(python())
        .arg(repo().join("scripts/ray_embody.py"))
        .args(["--address", &cluster.address, "--shards", "2"])
        .args(["--out", results.path().to_str().unwrap()])
        .args(["--embody", env!("CARGO_BIN_EXE_embody"), "--"])
        .args(["record", SCENARIO, "--episodes", "2", "--seed", "130"])
        .args(["--out", demos.path().to_str().unwrap()])
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(
        done.status.success(),
        "driver: {}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert_eq!(
        last_json(&done)["demonstrations"],
        demos.path().to_str().unwrap()
    );
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(demos.path().join("index.json")).unwrap())
            .unwrap();
    let seeds: Vec<u64> = index["episodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seed"].as_u64().unwrap())
        .collect();
    assert_eq!(seeds, [130, 131]);
    for seed in [130, 131] {
        assert!(demos
            .path()
            .join(format!("table_clearing_seed{seed:06}.mcap"))
            .is_file());
    }
}
