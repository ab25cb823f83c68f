//! Bad inputs end in a clear message and a non-zero exit code, never a panic.

mod common;

use common::{embody, scenario_in_temp, shipped_scenario};

fn assert_clean_failure(args: &[&str], expect: &[&str]) {
    let out = embody(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should fail: {args:?}");
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    for e in expect {
        assert!(stderr.contains(e), "expected '{e}' in: {stderr}");
    }
}

fn variant(name: &str, text: &str) -> (tempfile::TempDir, String) {
    let (dir, path) = scenario_in_temp(name, text);
    (dir, path.display().to_string())
}

#[test]
fn unknown_key() {
    let text = shipped_scenario().replace("min_gap = 0.04", "min_gap = 0.04\nmin_gapp = 0.1");
    let line = text
        .lines()
        .position(|l| l.starts_with("min_gapp"))
        .unwrap()
        + 1;
    let (_d, path) = variant("unknown.toml", &text);
    assert_clean_failure(
        &["run", &path],
        &["unknown.toml", "min_gapp", &format!("line {line}")],
    );
}

#[test]
fn negative_mass() {
    let text = shipped_scenario().replacen("mass = [0.1, 0.2]", "mass = -1.0", 1);
    let line = text
        .lines()
        .position(|l| l.starts_with("mass = -1.0"))
        .unwrap()
        + 1;
    let (_d, path) = variant("mass.toml", &text);
    assert_clean_failure(
        &["run", &path],
        &[&format!("mass.toml:{line}"), "objects[0].mass", "positive"],
    );
}

#[test]
fn object_outside_the_table() {
    let text = shipped_scenario().replace("y = [-0.22, 0.30]", "y = [-0.22, 0.90]");
    let (_d, path) = variant("off.toml", &text);
    assert_clean_failure(&["run", &path], &["off.toml", "spawn", "off the table"]);
}

#[test]
fn missing_urdf() {
    let text = shipped_scenario().replace("panda.urdf", "no_such_robot.urdf");
    let (_d, path) = variant("nourdf.toml", &text);
    assert_clean_failure(&["run", &path], &["no_such_robot.urdf", "cannot read URDF"]);
}

#[test]
fn malformed_urdf() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("broken.urdf"),
        "<robot name=\"p\"><link name=\"a\"><joint",
    )
    .unwrap();
    let text = shipped_scenario().replace("../assets/robots/panda/panda.urdf", "broken.urdf");
    let path = dir.path().join("s.toml");
    std::fs::write(&path, text).unwrap();
    assert_clean_failure(
        &["run", path.to_str().unwrap()],
        &["malformed URDF", "broken.urdf"],
    );
}

#[test]
fn missing_scenario_and_unknown_policy() {
    assert_clean_failure(&["run", "/nonexistent/x.toml"], &["/nonexistent/x.toml"]);
    assert_clean_failure(
        &["run", "scenarios/table_clearing.toml", "--policy", "magic"],
        &["unknown policy 'magic'"],
    );
}

#[test]
fn retry_limits_out_of_range() {
    assert_clean_failure(
        &[
            "eval",
            "scenarios/table_clearing.toml",
            "--skill-timeout-s",
            "0",
        ],
        &["--skill-timeout-s must be a positive number of seconds, got 0"],
    );
    assert_clean_failure(
        &[
            "run",
            "scenarios/table_clearing.toml",
            "--max-attempts",
            "0",
        ],
        &["--max-attempts must be at least 1"],
    );
}

#[test]
fn a_scenario_default_policy_that_cannot_load_names_the_scenario() {
    let text = shipped_scenario().replace(
        "policy = \"diffusion:../policies/models/table_clearing.json\"",
        "policy = \"diffusion:../policies/models/gone.json\"",
    );
    assert!(text.contains("gone.json"));
    let (_d, path) = variant("gone_policy.toml", &text);
    assert_clean_failure(
        &["run", &path],
        &[
            "default policy of",
            "gone_policy.toml",
            "gone.json",
            "--policy",
        ],
    );
}

#[test]
fn render_size_beyond_the_cap_is_an_error_naming_the_flag() {
    // This used to abort on a 110 GB allocation.
    for (size, why) in [
        (
            ["100000", "100000"],
            "width must be 1..=8192 pixels, got 100000",
        ),
        (["8192", "8192"], "8192x8192 is more than"),
        (["4096", "0"], "height must be 1..=8192 pixels, got 0"),
        (["4096", "16"], "at most 16 times the other"),
    ] {
        assert_clean_failure(
            &[
                "render",
                "scenarios/table_clearing.toml",
                "--size",
                size[0],
                size[1],
            ],
            &[&format!("--size {} {}", size[0], size[1]), why],
        );
    }
}

#[test]
fn a_scenario_camera_beyond_the_cap_is_an_error_naming_the_key() {
    let text = format!(
        "{}\n[[cameras]]\nname = \"huge\"\nposition = [1.2, 0.0, 0.7]\nlook_at = [0.4, 0.0, 0.0]\nwidth = 64\nheight = 100000\nfov_deg = 50.0\n",
        shipped_scenario()
    );
    let line = text
        .lines()
        .position(|l| l.starts_with("height = 100000"))
        .unwrap()
        + 1;
    let (_d, path) = variant("huge_camera.toml", &text);
    assert_clean_failure(
        &["render", &path],
        &[
            &format!("huge_camera.toml:{line}"),
            "cameras[0].height",
            "camera 'huge'",
            "height must be 1..=8192 pixels, got 100000",
        ],
    );
}

#[test]
fn a_urdf_whose_joints_form_a_cycle_is_an_error_not_a_hang() {
    // The base link made the right finger's child: the chain from the TCP up to the base is
    // intact, and building the robot from the base down used to loop for ever.
    let urdf = std::fs::read_to_string(common::repo().join("assets/robots/panda/panda.urdf"))
        .unwrap()
        .replacen(
            r#"<child link="panda_rightfinger"/>"#,
            r#"<child link="panda_link0"/>"#,
            1,
        );
    assert!(urdf.contains(r#"<child link="panda_link0"/>"#));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cyclic.urdf"), urdf).unwrap();
    let text = shipped_scenario().replace("../assets/robots/panda/panda.urdf", "cyclic.urdf");
    let path = dir.path().join("s.toml");
    std::fs::write(&path, text).unwrap();
    // Spawned and killed on a deadline, so that a hang fails the test and leaves no process.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_embody"))
        .args(["run", path.to_str().unwrap(), "--policy", "scripted"])
        .current_dir(common::repo())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("embody run did not end on a URDF whose joints form a cycle");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for want in ["cyclic.urdf", "cycle", "panda_finger_joint2", "panda_link0"] {
        assert!(stderr.contains(want), "'{want}' missing from: {stderr}");
    }
}

#[test]
fn render_seeds_past_the_last_seed_are_an_error_not_an_overflow() {
    assert_clean_failure(
        &[
            "render",
            "scenarios/table_clearing.toml",
            "--seed",
            "18446744073709551615",
        ],
        &["--seed 18446744073709551615 --seeds 1", "run past"],
    );
}

/// `replay --to-ros` refuses a speed it cannot use and a log with nothing to send, before it
/// looks for a robot; so do `deploy --episodes 0` and `run --duration-s` that is not a time.
#[test]
fn replay_to_ros_and_soak_flags_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    // A log cut after its scenario record: it opens, and holds no commands.
    let log = dir.path().join("short.mcap");
    let v = common::record_red_cube(&log);
    assert_eq!(v["success_rate"], 1.0);
    let bytes = std::fs::read(&log).unwrap();
    let cut = dir.path().join("cut.mcap");
    std::fs::write(&cut, &bytes[..5000]).unwrap();
    let log = log.to_str().unwrap();
    for speed in ["0", "-1", "nan", "1e9"] {
        let flag = format!("--speed={speed}");
        assert_clean_failure(
            &["replay", log, "--to-ros", "--dry-run", &flag],
            &["--speed must be above 0 and at most 4"],
        );
    }
    assert_clean_failure(
        &["replay", cut.to_str().unwrap(), "--to-ros", "--dry-run"],
        &["cut.mcap", "holds no arm commands"],
    );
    assert_clean_failure(
        &["replay", log, "--to-ros", "--verify"],
        &["run --verify or --summary on their own"],
    );
    assert_clean_failure(
        &[
            "run",
            "scenarios/table_clearing.toml",
            "--realtime",
            "--duration-s=-5",
        ],
        &["--duration-s must be a positive number of seconds"],
    );
}

/// The arm `deploy` drives must be the one its cell describes, and the flags that replace the
/// cell's URDF, links or workspace are checked before anything connects.
#[test]
fn an_arm_or_workspace_that_does_not_fit_the_cell_is_refused() {
    let deploy = |extra: &[&str]| {
        let mut args = vec!["deploy", "--instruction", "clear the table"];
        args.extend_from_slice(extra);
        args.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let check = |extra: &[&str], want: &[&str]| {
        let args = deploy(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_clean_failure(&args, want);
    };
    check(
        &[
            "--cell",
            "scenarios/table_clearing_ur5e.toml",
            "--urdf",
            "assets/robots/panda/panda.urdf",
            "--base-link",
            "panda_link0",
            "--tcp-link",
            "panda_hand_tcp",
        ],
        &["has 7 joints", "6-joint arm", "table_clearing_ur5e.toml"],
    );
    check(
        &["--urdf", "/no/such/arm.urdf"],
        &["cannot read the arm's URDF /no/such/arm.urdf"],
    );
    check(&["--tcp-link", "nope"], &["no link named 'nope'"]);
    check(
        &[
            "--workspace-min",
            "0.5",
            "-1",
            "0",
            "--workspace-max",
            "0.2",
            "1",
            "1",
        ],
        &["the TCP workspace is empty"],
    );
    check(
        &["--workspace-max", "1", "nan", "1"],
        &["--workspace-max takes three finite numbers"],
    );
    check(
        &["--scene-input", "detections", "--episodes", "3"],
        &["with --scene-input detections there is none"],
    );
}
