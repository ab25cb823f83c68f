//! The ROS 2 deployment path with real DDS traffic: `embody sim --ros` and `embody deploy` as two
//! processes, inside a private network namespace (`unshare -n`, loopback only, multicast on) so
//! nothing leaves the machine. Faults: joint states that stop mid-trajectory or arrive broken,
//! broken scenes and object poses, a rejected goal, an e-stop.

mod common;

use std::path::Path;

use common::{in_private_network, json_lines};
use embody_agent::log::read_log;
use embody_agent::ros_msgs::{JointTrajectoryMsg, RosMessage};

/// Runs the simulated robot and `embody deploy` side by side; returns (sim outcome, deploy
/// summary, everything printed).
fn sim_and_deploy(
    sim_args: &str,
    deploy_args: &str,
    also: &str,
) -> (serde_json::Value, serde_json::Value, String) {
    sim_and_deploy_on("scenarios/table_clearing.toml", sim_args, deploy_args, also)
}

fn sim_and_deploy_on(
    scenario: &str,
    sim_args: &str,
    deploy_args: &str,
    also: &str,
) -> (serde_json::Value, serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let out = in_private_network(&format!(
        "$E sim --ros {scenario} --exit-when-done --duration-s 150 {sim_args} \
             > {d}/sim.out 2> {d}/sim.err &
         SIM=$!
         {also}
         $E deploy --json {deploy_args} > {d}/deploy.out 2> {d}/deploy.err
         echo deploy exit $?
         wait $SIM
         echo sim exit $?"
    ));
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap_or_default();
    let all = format!(
        "{}{}\n--- sim\n{}{}\n--- deploy\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        read("sim.out"),
        read("sim.err"),
        read("deploy.out"),
        read("deploy.err")
    );
    let sim = json_lines(&read("sim.out")).pop();
    let deploy = json_lines(&read("deploy.out")).pop();
    let (Some(sim), Some(deploy)) = (sim, deploy) else {
        panic!("no result:\n{all}");
    };
    (sim, deploy, all)
}

/// Arm and gripper through their actions (FollowJointTrajectory, GripperCommand), as
/// ros2_control's controllers serve them.
#[test]
fn sim_and_deploy_clear_the_table_over_dds() {
    let _solo = common::solo();
    let (sim, deploy, all) = sim_and_deploy(
        "",
        "--instruction 'clear the table' --arm-interface action --gripper-interface action",
        "",
    );
    assert_eq!(deploy["ok"], true, "{all}");
    assert!(deploy["stopped"].is_null(), "{all}");
    // The simulator judges from its own true state: every object in the bin.
    assert_eq!(sim["success"], true, "{all}");
    assert_eq!(sim["objects_cleared"], 5, "{all}");
    assert_eq!(sim["rejected_trajectories"], 0, "{all}");
    assert!(sim["accepted_goals"].as_u64().unwrap() > 1000, "{all}");
    assert!(all.contains("deploy exit 0"), "{all}");
}

/// The second arm over ROS 2 with ur_robot_driver's names: deploy reads the arm (joints,
/// limits, gripper) from the robot's latched /robot_description, the controller names from the
/// cell.
#[test]
fn a_ur5e_clears_the_table_over_dds_with_its_drivers_names() {
    let _solo = common::solo();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("ur5e.mcap");
    let (sim, deploy, all) = sim_and_deploy_on(
        "scenarios/table_clearing_ur5e.toml",
        "",
        &format!(
            "--cell scenarios/table_clearing_ur5e.toml --robot-description \
             --instruction 'clear the table' --policy scripted --arm-interface action --log {}",
            log.display()
        ),
        "",
    );
    if deploy["ok"] != true || sim["success"] != true {
        // Kept for a look afterwards: a lost grasp on the wall clock is not reproducible.
        let kept = dir.keep();
        panic!(
            "the UR5e did not clear the table (deploy log kept in {}):\n{all}",
            kept.display()
        );
    }
    assert_eq!(sim["rejected_trajectories"], 0, "{all}");
    assert!(all.contains("scaled_joint_trajectory_controller"), "{all}");
    assert!(
        all.contains("waiting for the robot's description on /robot_description"),
        "{all}"
    );
    // The UR's deploy log passes replay's checks for the robot it came from.
    let dry = common::embody(&[
        "replay",
        log.to_str().unwrap(),
        "--to-ros",
        "--dry-run",
        "--json",
    ]);
    let v = common::last_json(&dry);
    assert!(dry.status.success(), "{v}");
    assert!(v["commands_total"].as_u64().unwrap() > 1000, "{v}");
    // The log names the UR's joints and its gripper's, not the Panda's, and keeps the
    // description the robot gave.
    let log = read_log(&log).unwrap();
    let rec: embody_agent::log::ScenarioRecord =
        serde_json::from_slice(&log.on("/embody/scenario").next().unwrap().data).unwrap();
    assert!(
        rec.urdf_text.contains("<robot name=\"ur5e\""),
        "{}",
        &rec.urdf_text[..200]
    );
    let js = log
        .on("/joint_states")
        .next()
        .map(|m| embody_agent::ros_msgs::JointStateMsg::from_cdr(&m.data).unwrap())
        .expect("joint states recorded");
    assert_eq!(js.name[0], "shoulder_pan_joint", "{:?}", js.name);
    assert!(
        js.name.contains(&"gripper_finger_joint1".to_string()),
        "{:?}",
        js.name
    );
    assert!(
        log.on("/scaled_joint_trajectory_controller/joint_trajectory")
            .count()
            > 100,
        "{:?}",
        log.messages
            .iter()
            .map(|m| &m.topic)
            .collect::<std::collections::BTreeSet<_>>()
    );
}

/// The scene from a 3-D detector's vision_msgs/Detection3DArray instead of embody's own scene
/// description: classes, sizes and poses from the detections, colours from the ids, the bin
/// from the cell. (One object: a wall-clock run does not repeat, and the simulator drops about
/// 1 % of carried objects, which a test of the scene's source should not fail on.)
#[test]
fn deploy_takes_the_scene_from_3d_detections() {
    let _solo = common::solo();
    let (sim, deploy, all) = sim_and_deploy(
        "",
        "--scene-input detections --policy scripted --instruction 'put the red cube in the bin'",
        "",
    );
    assert_eq!(deploy["ok"], true, "{all}");
    assert_eq!(deploy["scene_input"], "detections", "{all}");
    assert_eq!(sim["success"], true, "{all}");
    assert_eq!(sim["objects_total"], 1, "{all}");
    assert_eq!(sim["objects_cleared"], 1, "{all}");
    // The colour came from the detection's id: the red cube is the one in the bin.
    let red = sim["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == "red_cube")
        .cloned();
    assert_eq!(
        red.map(|o| o["cleared"].clone()),
        Some(true.into()),
        "{all}"
    );
}

/// Object poses from the robot's camera: depth, instance segmentation (mono16) and CameraInfo
/// over DDS, through camera perception, the camera's pose from the cell. Without the images
/// (a robot with no camera) deploy waits for them and then names what is missing.
#[test]
fn deploy_perceives_from_the_robots_depth_and_segmentation_images() {
    let _solo = common::solo();
    let (sim, deploy, all) = sim_and_deploy_on(
        "scenarios/table_clearing_camera.toml",
        "",
        "--cell scenarios/table_clearing_camera.toml --scene-input camera --policy scripted \
         --instruction 'put the green can in the bin'",
        "",
    );
    assert_eq!(deploy["ok"], true, "{all}");
    assert_eq!(deploy["scene_input"], "camera", "{all}");
    assert_eq!(deploy["dropped_messages"], serde_json::json!({}), "{all}");
    assert_eq!(sim["success"], true, "{all}");
    assert_eq!(sim["objects_cleared"], 1, "{all}");

    let out = in_private_network(
        "$E sim --ros scenarios/table_clearing.toml --duration-s 8 > /dev/null 2>&1 &
         $E deploy --cell scenarios/table_clearing_camera.toml --scene-input camera \
             --policy scripted --instruction 'clear the table' --wait-s 3
         echo deploy exit $?
         wait",
    );
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("nothing on /camera/color/camera_info"),
        "{text}"
    );
    assert!(text.contains("instance segmentation (mono16)"), "{text}");
    assert!(text.contains("deploy exit 2"), "{text}");
}

/// From the stop on, the robot is only told to stay where it is.
fn only_holds_after(log: &Path, event: &str) {
    let log = read_log(log).unwrap();
    let t = log
        .on("/embody/events")
        .map(|m| serde_json::from_slice::<serde_json::Value>(&m.data).unwrap())
        .find(|e| e["kind"] == event)
        .map(|e| e["t"].as_f64().unwrap())
        .unwrap_or_else(|| panic!("no {event} event"));
    let after: Vec<JointTrajectoryMsg> = log
        .on("/panda_arm_controller/joint_trajectory")
        .filter(|m| m.time_s() >= t - 1e-9)
        .map(|m| JointTrajectoryMsg::from_cdr(&m.data).unwrap())
        .collect();
    assert!(!after.is_empty(), "no hold command after {event}");
    for a in &after {
        assert!(a.points[0].velocities.iter().all(|v| *v == 0.0));
        assert_eq!(a.points[0].positions, after[0].points[0].positions);
    }
}

#[test]
fn stale_joint_states_hold_the_arm_and_end_the_run() {
    let _solo = common::solo();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("stale.mcap");
    let (sim, deploy, all) = sim_and_deploy(
        "--fault-silence-joint-states-after-s 2",
        &format!(
            "--instruction 'put the red cube in the bin' --log {}",
            log.display()
        ),
        "",
    );
    assert_eq!(deploy["stopped"]["kind"], "robot_error", "{all}");
    let stopped = deploy["stopped"]["detail"].as_str().unwrap_or_default();
    assert!(
        stopped.contains("stale") && stopped.contains("/joint_states"),
        "{all}"
    );
    assert_eq!(deploy["ok"], false);
    assert!(all.contains("deploy exit 1"), "{all}");
    assert_eq!(sim["embody_finished"], true, "{all}");
    only_holds_after(&log, "hold");
}

/// Broken joint states (NaN, a missing finger, a missing arm joint, bytes that are not a
/// JointState) after every good one: each is counted and dropped, and the run goes on.
#[test]
fn broken_joint_states_are_dropped_and_the_run_goes_on() {
    let _solo = common::solo();
    let (sim, deploy, all) = sim_and_deploy(
        "--fault-corrupt-joint-states",
        "--instruction 'put the red cube in the bin'",
        "",
    );
    assert_eq!(deploy["ok"], true, "{all}");
    assert!(deploy["stopped"].is_null(), "{all}");
    let dropped = deploy["dropped_messages"]["/joint_states"]
        .as_u64()
        .unwrap_or(0);
    // Three of every four broken messages decode and fail the checks; the fourth may not
    // decode at all. Either way hundreds are dropped over a run of several seconds.
    assert!(dropped > 100, "{all}");
    assert_eq!(sim["success"], true, "{all}");
}

/// A scene description that is not JSON after every good one: deploy looks past it to the good
/// one before, counts it, and the run goes on.
#[test]
fn broken_scene_descriptions_are_dropped_and_the_run_goes_on() {
    let _solo = common::solo();
    let (sim, deploy, all) = sim_and_deploy(
        "--fault-corrupt-scene",
        "--instruction 'put the red cube in the bin'",
        "",
    );
    assert_eq!(deploy["ok"], true, "{all}");
    assert!(
        deploy["dropped_messages"]["/embody/scene"]
            .as_u64()
            .unwrap_or(0)
            >= 1,
        "{all}"
    );
    assert_eq!(sim["success"], true, "{all}");
}

/// A cell that sets a new table after each run, and object poses followed by broken ones (a
/// NaN pose, bytes that are not a TF message): deploy runs twice, one log per run, looks past
/// the broken poses to the good ones before, and counts them.
#[test]
fn two_tables_in_a_row_with_broken_object_poses_dropped() {
    let _solo = common::solo();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let out = in_private_network(&format!(
        "$E sim --ros scenarios/table_clearing.toml --new-scene-when-done --duration-s 150 \
             --fault-corrupt-object-poses > {d}/sim.out 2> {d}/sim.err &
         SIM=$!
         $E deploy --json --instruction 'put the red cube in the bin' --episodes 2 \
             --log {d}/logs > {d}/deploy.out 2> {d}/deploy.err
         echo deploy exit $?
         kill -TERM $SIM
         wait $SIM
         echo sim exit $?"
    ));
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap_or_default();
    let all = format!(
        "{}\n--- sim\n{}{}\n--- deploy\n{}",
        String::from_utf8_lossy(&out.stdout),
        read("sim.out"),
        read("sim.err"),
        read("deploy.err")
    );
    let deploy = json_lines(&read("deploy.out"))
        .pop()
        .unwrap_or_else(|| panic!("{all}"));
    let sim = json_lines(&read("sim.out"))
        .pop()
        .unwrap_or_else(|| panic!("{all}"));
    assert_eq!(deploy["runs"], 2, "{all}");
    assert_eq!(deploy["ok"], true, "{all}");
    assert!(
        all.contains("deploy exit 0") && all.contains("sim exit 0"),
        "{all}"
    );
    // Both broken kinds, after every good message over two runs.
    let dropped = deploy["dropped_messages"]["/embody/objects"]
        .as_u64()
        .unwrap_or(0);
    assert!(dropped > 100, "{all}");
    // The cell judged both tables from its own state, each a different seed, and then had a
    // third set when TERM ended it.
    let tables = sim["episodes"].as_array().unwrap();
    assert_eq!(tables.len(), 2, "{all}");
    assert_eq!(tables[0]["seed"], 0);
    assert_eq!(tables[1]["seed"], 1);
    assert!(tables.iter().all(|t| t["success"] == true), "{all}");
    assert_eq!(sim["seed"], 2, "{all}");
    // Each run names its table, and its log reads.
    let runs = deploy["per_run"].as_array().unwrap();
    assert_eq!(runs[0]["episode"], 0);
    assert_eq!(runs[1]["episode"], 1);
    for k in 0..2 {
        let path = dir.path().join(format!("logs/run-{k:04}.mcap"));
        let log = read_log(&path).unwrap();
        assert!(log.on("/embody/events").count() > 0, "run {k}");
        // A deployed run's commands pass the safety filter again, as `replay --to-ros` would
        // send them.
        let dry = common::embody_json(&[
            "replay",
            path.to_str().unwrap(),
            "--to-ros",
            "--dry-run",
            "--json",
        ]);
        assert!(dry["stopped"].is_null(), "{dry}");
        assert!(dry["commands_sent"].as_u64().unwrap() > 100, "{dry}");
        assert_eq!(dry["commands_sent"], dry["commands_total"], "{dry}");
    }
}

/// `embody deploy --log` killed with SIGKILL at `points` (ms after its start), one after another
/// against one simulated cell: every log that was created opens, holds the run's scenario
/// record, and reads to its last complete chunk. (A deployed run's log cannot be replayed in
/// the simulator: the robot's side of it is not recorded.) Returns how many logs there were.
fn kill_deploy_at(points: &[u64]) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let kills: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(k, ms)| {
            format!(
                "$E deploy --instruction 'clear the table' --log {d}/{k}.mcap >> {d}/deploy.out \
                     2>> {d}/deploy.err &
                 sleep {}
                 kill -KILL $!
                 wait $! 2>/dev/null",
                *ms as f64 / 1e3
            )
        })
        .collect();
    let out = in_private_network(&format!(
        "$E sim --ros scenarios/table_clearing.toml --duration-s 900 > {d}/sim.out 2> {d}/sim.err &
         SIM=$!
         {}
         kill -TERM $SIM
         wait $SIM
         echo sim exit $?",
        kills.join("\n")
    ));
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap_or_default();
    let all = format!(
        "{}{}\n--- deploy\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        read("deploy.err")
    );
    assert!(all.contains("sim exit 0"), "{all}");
    let (mut logs, mut partial) = (0, 0);
    for (k, ms) in points.iter().enumerate() {
        let path = dir.path().join(format!("{k}.mcap"));
        if !path.exists() {
            continue; // killed before the run began
        }
        logs += 1;
        let log = read_log(&path)
            .unwrap_or_else(|e| panic!("killed at {ms} ms: {}: {e}\n{all}", path.display()));
        assert!(
            log.on("/embody/scenario").next().is_some(),
            "killed at {ms} ms: no scenario record"
        );
        // A run killed mid-way is an incomplete log that says so; one whose run had not
        // begun recording commands may be complete.
        if !log.complete() {
            partial += 1;
        }
    }
    println!(
        "deploy killed at {} points: {logs} logs, {partial} cut short",
        points.len()
    );
    logs
}

/// Kill points for deploy, from a fixed seed (a failure reproduces): 0.5 to 8 s after start,
/// which spans discovery, the wait for the scene, and the first skills.
fn deploy_kill_points(n: usize) -> Vec<u64> {
    common::kill_points(n, 0x9e37_79b9_7f4a_7c15, 500, 7500)
}

#[test]
fn a_killed_deploy_leaves_readable_logs() {
    let _solo = common::solo();
    let logs = kill_deploy_at(&deploy_kill_points(4));
    assert!(logs >= 2, "the recordings should have started");
}

/// Issue 18's 50 kill points in deploy (about 5 minutes):
/// `cargo test --test ros_e2e -- --ignored fifty_deploy_kill_points`
#[test]
#[ignore]
fn fifty_deploy_kill_points_leave_readable_logs() {
    let _solo = common::solo();
    let logs = kill_deploy_at(&deploy_kill_points(50));
    assert!(logs >= 35, "the recordings should have started");
}

/// A simulator run's log sent to `embody sim --ros` (same scenario and seed): the arm follows
/// the recorded states and the cube ends in the bin; sent again, the arm is where the first
/// replay left it, not where the log starts, and the replay is refused naming a joint; with
/// --approach at half speed it goes there first and is sent the whole log again.
///
/// Tracking: 95 % of the run within issue 17's 0.05 rad always. The worst point is held to
/// 0.15 rad while both sides kept their schedule (joint states stamped at most 50 ms apart,
/// commands out at most 50 ms late): an open-loop replay's grasp differs a little from the
/// recorded one, and at the place the cube meets the bin a little differently and pushes the
/// wrist (README, "Replay on the robot"); a fresh-clone CI run measured 0.113 rad there (joint
/// 5 at 7.3 s) on schedule, with joint states 17 ms apart and commands 2 ms late at most. When
/// the simulator or the replay stalled (a loaded 2-core machine; CI once measured 0.137 rad at
/// the place), the arm fell behind for that stall and the grasp shifted: the worst point is
/// then only held to 0.25 rad, and the stall is printed with it. A replay that lost its
/// schedule or its frames misses by far more, and the p95 bound holds the run itself.
#[test]
fn a_log_replayed_on_the_robot_follows_it_and_a_robot_elsewhere_is_refused() {
    let _solo = common::solo();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let log = dir.path().join("red.mcap");
    let recorded = common::record_red_cube(&log);
    assert_eq!(recorded["success_rate"], 1.0, "{recorded}");
    let dry = common::embody_json(&[
        "replay",
        log.to_str().unwrap(),
        "--to-ros",
        "--dry-run",
        "--json",
    ]);
    assert!(dry["stopped"].is_null(), "{dry}");
    assert_eq!(dry["commands_sent"], dry["commands_total"], "{dry}");
    let out = in_private_network(&format!(
        "$E sim --ros scenarios/table_clearing.toml --duration-s 120 > {d}/sim.out 2> {d}/sim.err &
         SIM=$!
         $E replay {d}/red.mcap --to-ros --json > {d}/first.out 2> {d}/first.err
         echo first exit $?
         $E replay {d}/red.mcap --to-ros --json > {d}/again.out 2> {d}/again.err
         echo again exit $?
         $E replay {d}/red.mcap --to-ros --approach --speed 0.5 --json > {d}/approach.out \
             2> {d}/approach.err
         echo approach exit $?
         kill -TERM $SIM
         wait $SIM"
    ));
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap_or_default();
    let all = format!(
        "{}\n--- first\n{}{}\n--- again\n{}\n--- approach\n{}{}\n--- sim\n{}",
        String::from_utf8_lossy(&out.stdout),
        read("first.out"),
        read("first.err"),
        read("again.err"),
        read("approach.out"),
        read("approach.err"),
        read("sim.out"),
    );
    assert!(all.contains("first exit 0"), "{all}");
    let first = json_lines(&read("first.out"))
        .pop()
        .unwrap_or_else(|| panic!("{all}"));
    assert_eq!(first["commands_sent"], dry["commands_total"], "{all}");
    assert!(first["stopped"].is_null(), "{all}");
    let err = first["max_tracking_error_rad"].as_f64().unwrap();
    let p95 = first["p95_tracking_error_rad"].as_f64().unwrap();
    let gap = first["longest_state_gap_ms"].as_f64().unwrap();
    let late = first["max_send_late_ms"].as_f64().unwrap();
    println!(
        "replay --to-ros: {} commands, tracking error max {err:.4} rad, p95 {p95:.4} rad, mean \
         {:.4} rad; joint states at most {gap:.0} ms apart, commands at most {late:.0} ms late",
        first["commands_sent"], first["mean_tracking_error_rad"]
    );
    assert!(p95 < 0.05, "{all}");
    let on_schedule = gap <= 50.0 && late <= 50.0;
    assert!(err < if on_schedule { 0.15 } else { 0.25 }, "{all}");
    // Refused before anything moves, with the joint named.
    assert!(all.contains("again exit 2"), "{all}");
    assert!(
        read("again.err").contains("is not where the log starts: panda_joint"),
        "{all}"
    );
    assert!(all.contains("approach exit 0"), "{all}");
    let approach = json_lines(&read("approach.out"))
        .pop()
        .unwrap_or_else(|| panic!("{all}"));
    println!(
        "replay --to-ros --approach --speed 0.5: moved {} rad first, tracking error max {} rad",
        approach["approach_rad"], approach["max_tracking_error_rad"]
    );
    assert!(approach["approach_rad"].as_f64().unwrap() > 0.05, "{all}");
    // Sent to the end; not held to the tracking bound: the cube the log picks up now lies in
    // the bin, where the recorded place motion goes down and meets it.
    assert!(approach["stopped"].is_null(), "{all}");
    assert_eq!(approach["commands_sent"], dry["commands_total"], "{all}");
    // The cell judged from its own state: the first replay put the cube in the bin.
    let sim = json_lines(&read("sim.out"))
        .pop()
        .unwrap_or_else(|| panic!("{all}"));
    let cube = sim["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == "red_cube")
        .unwrap()
        .clone();
    assert!(
        cube["failure"]["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("in bin"),
        "{all}"
    );
}

#[test]
fn a_rejected_trajectory_goal_holds_the_arm_and_ends_the_run() {
    let _solo = common::solo();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("rejected.mcap");
    let (sim, deploy, all) = sim_and_deploy(
        "--fault-reject-goals-after-s 2",
        &format!(
            "--instruction 'put the red cube in the bin' --arm-interface action --log {}",
            log.display()
        ),
        "",
    );
    assert_eq!(deploy["stopped"]["kind"], "robot_error", "{all}");
    let stopped = deploy["stopped"]["detail"].as_str().unwrap_or_default();
    assert!(
        stopped.contains("panda_arm_controller rejected a trajectory goal"),
        "{all}"
    );
    assert!(sim["rejected_trajectories"].as_u64().unwrap() >= 1, "{all}");
    only_holds_after(&log, "hold");
}

#[test]
fn an_estop_holds_the_arm_and_ends_the_run() {
    let _solo = common::solo();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("estop.mcap");
    let (_sim, deploy, all) = sim_and_deploy(
        "",
        &format!(
            "--instruction 'put the red cube in the bin' --log {}",
            log.display()
        ),
        "(sleep 5; $E estop --seconds 1) &",
    );
    assert_eq!(deploy["stopped"]["kind"], "safety_stop", "{all}");
    let stopped = deploy["stopped"]["detail"].as_str().unwrap_or_default();
    assert!(stopped.contains("e-stop"), "{all}");
    assert_eq!(deploy["ok"], false);
    only_holds_after(&log, "hold");
}

/// The controllers' actions between embody and Cyclone DDS speaking them as a node on
/// rmw_cyclonedds does (`--request-reply cyclone`): Cyclone as the client of embody's servers
/// (goal, feedback, result, preemption, cancel, a bad goal, the gripper), then as the servers
/// embody's client drives, one of whose goals it aborts.
#[test]
fn actions_work_both_ways_with_an_independent_dds_implementation() {
    let _solo = common::solo();
    let py = common::python();
    let py = py.display();
    let out = in_private_network(&format!(
        "$E sim --ros scenarios/table_clearing.toml --request-reply cyclone --duration-s 30 \
             > /dev/null 2>&1 &
         SIM=$!
         {py} scripts/ros_interop_actions.py client --seconds 20
         kill $SIM; wait"
    ));
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let v = json_lines(&text).pop().unwrap_or_else(|| panic!("{text}"));
    assert_eq!(v["ok"], true, "{text}");
    assert_eq!(v["goal_a_accepted"], true, "{text}");
    assert!(v["goal_a_feedback"].as_u64().unwrap() >= 3, "{text}");
    assert_eq!(v["goal_a_status_while_running"], 2, "executing: {text}");
    // Preempted by B: canceled, with the reason.
    assert_eq!(v["goal_b_accepted"], true, "{text}");
    assert_eq!(v["goal_a_result"]["status"], 5, "{text}");
    assert!(
        v["goal_a_result"]["error_string"]
            .as_str()
            .unwrap()
            .contains("preempted"),
        "{text}"
    );
    assert_eq!(v["goal_b_result"]["status"], 4, "succeeded: {text}");
    assert_eq!(v["goal_b_result"]["error_code"], 0, "{text}");
    assert!(
        (v["joint1_after_b"].as_f64().unwrap() - 0.15).abs() < 0.05,
        "{text}"
    );
    assert_eq!(v["goal_b_status_topic"], 4, "{text}");
    assert_eq!(v["goal_c_accepted"], true, "{text}");
    assert_eq!(v["cancel_c"]["return_code"], 0, "{text}");
    assert_eq!(
        v["cancel_c"]["canceling"],
        serde_json::json!([true]),
        "{text}"
    );
    assert_eq!(v["goal_c_result"]["status"], 5, "{text}");
    assert_eq!(v["bad_goal_accepted"], false, "{text}");
    assert_eq!(v["gripper_accepted"], true, "{text}");
    assert_eq!(v["gripper_result"]["status"], 4, "{text}");

    // Cyclone as ros2_control's servers: embody's client sends a goal per control tick, each
    // preempting the last, and a gripper goal; from the 60th on the controller aborts every
    // goal (gone to fault), which must hold the arm and end the check with that reason.
    let out = in_private_network(&format!(
        "{py} scripts/ros_interop_actions.py server --seconds 10 --abort-after 60 &
         $E deploy --check --wiggle 0.1 --arm-interface action --gripper-interface action \
             --request-reply cyclone --json
         echo deploy exit $?
         wait"
    ));
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let lines = json_lines(&text);
    let cyclone = lines
        .iter()
        .find(|l| l.get("trajectory_goals").is_some())
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(cyclone["ok"], true, "{text}");
    assert_eq!(cyclone["joint_names_ok"], true, "{text}");
    assert!(
        cyclone["trajectory_goals"].as_u64().unwrap() >= 60,
        "{text}"
    );
    assert!(cyclone["gripper_goals"].as_u64().unwrap() >= 1, "{text}");
    assert!(
        text.contains("panda_arm_controller aborted the trajectory goal"),
        "{text}"
    );
    assert!(!text.contains("deploy exit 0"), "{text}");
}

/// Eclipse Cyclone DDS (Python, PyPI) with ROS 2's type names, against embody in both roles.
#[test]
fn an_independent_dds_implementation_understands_embody_and_is_understood() {
    let _solo = common::solo();
    let py = common::python();
    let py = py.display();
    // Cyclone as a client of the simulated robot: it decodes embody's JointState and embody
    // follows its two-point JointTrajectory.
    let out = in_private_network(&format!(
        "$E sim --ros scenarios/table_clearing_camera.toml --duration-s 10 > /dev/null 2>&1 &
         {py} scripts/ros_interop.py client --seconds 7
         wait"
    ));
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let v = json_lines(&text).pop().unwrap_or_else(|| panic!("{text}"));
    assert_eq!(v["ok"], true, "{text}");
    let names: Vec<&str> = v["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(
        &names[..7],
        &[
            "panda_joint1",
            "panda_joint2",
            "panda_joint3",
            "panda_joint4",
            "panda_joint5",
            "panda_joint6",
            "panda_joint7"
        ]
    );
    assert!(v["joint_states_received"].as_u64().unwrap() > 300, "{text}");
    assert!(v["stamp_sec"].as_i64().unwrap() > 1_600_000_000, "{text}");
    let moved = v["moved_joint1"].as_f64().unwrap();
    assert!((moved - 0.3).abs() < 0.02, "{text}");
    // The simulated camera, as sensor_msgs/Image.
    let image = &v["image"];
    assert_eq!(image["width"], 320, "{text}");
    assert_eq!(image["height"], 240, "{text}");
    assert_eq!(image["encoding"], "rgb8", "{text}");
    assert_eq!(image["bytes"], 320 * 240 * 3, "{text}");
    assert_eq!(image["frame_id"], "front_optical_frame", "{text}");
    // The scene as vision_msgs/Detection3DArray, decoded by Cyclone's own types: the five
    // objects and the bin, in the base frame, with classes and sizes.
    let d = &v["detections"];
    assert_eq!(d["frame_id"], "panda_link0", "{text}");
    assert_eq!(
        d["ids"],
        serde_json::json!([
            "red_cube",
            "blue_box",
            "green_can",
            "yellow_cup",
            "orange_cube",
            "bin"
        ]),
        "{text}"
    );
    assert_eq!(
        d["classes"],
        serde_json::json!(["cube", "box", "can", "cup", "cube", "bin"]),
        "{text}"
    );
    for (size, z) in d["sizes"]
        .as_array()
        .unwrap()
        .iter()
        .zip(d["z"].as_array().unwrap())
    {
        let s: Vec<f64> = serde_json::from_value(size.clone()).unwrap();
        assert!(s.iter().all(|v| *v > 0.02 && *v < 0.3), "{text}");
        assert!(
            z.as_f64().unwrap() > -0.01 && z.as_f64().unwrap() < 0.1,
            "{text}"
        );
    }

    // Cyclone as the robot: embody decodes its JointState and it decodes embody's trajectories.
    let out = in_private_network(&format!(
        "{py} scripts/ros_interop.py robot --seconds 8 &
         $E deploy --check --wiggle 0.1 --json
         wait"
    ));
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let lines = json_lines(&text);
    let embody = lines
        .iter()
        .find(|l| l.get("commands_sent").is_some())
        .unwrap_or_else(|| panic!("{text}"));
    let cyclone = lines
        .iter()
        .find(|l| l.get("trajectories_received").is_some())
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(embody["ok"], true, "{text}");
    assert_eq!(embody["position"][3], -2.356194, "{text}");
    assert_eq!(embody["gripper_width_m"], 0.08, "{text}");
    assert!(embody["max_motion_rad"].as_f64().unwrap() > 0.09, "{text}");
    assert_eq!(cyclone["ok"], true, "{text}");
    assert_eq!(cyclone["joint_names_ok"], true, "{text}");
    // Reliable QoS on loopback: (nearly) every trajectory embody sent arrived.
    let sent = embody["commands_sent"].as_u64().unwrap() as f64;
    let got = cyclone["trajectories_received"].as_u64().unwrap() as f64;
    assert!(got >= 0.9 * sent, "{text}");
}

#[test]
fn joint_state_latency_bench_runs_over_dds() {
    let _solo = common::solo();
    let out = in_private_network("$E bench ros --rate 500 --seconds 1 --json");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_lines(&text).pop().unwrap();
    let r = &v["report"];
    assert_eq!(r["dds"]["received"], 500, "{text}");
    assert_eq!(r["channel"]["received"], 500, "{text}");
    assert!(r["dds"]["p50_us"].as_f64().unwrap() > 0.0, "{text}");
}

/// The learned policy across the network: `embody policy serve` with the shipped model,
/// `embody deploy --policy remote:NAME` asking it for every chunk (real-time chunking at a
/// 200 ms emulated delay), against `embody sim --ros`: the object is in the bin by the
/// simulator's verdict. One object, not the whole table: the shipped model clears a whole
/// table in about 9 of 10 episodes (0.87 with rtc at 200 ms in lockstep, seeds 0-99), and on
/// the wall clock no run repeats, so a five-object test would fail now and then for the model's
/// sake, not the server's.
#[test]
fn deploy_with_a_remote_policy_server_puts_the_object_in_the_bin() {
    let _solo = common::solo();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let (sim, deploy, all) = sim_and_deploy(
        "",
        "--instruction 'put the blue box in the bin' --policy remote:cell1 --chunking rtc \
         --inference-delay-ms 200",
        &format!(
            "$E policy serve policies/models/table_clearing.json --name cell1 \
             > {d}/server.out 2> {d}/server.err &
             SRV=$!
             trap 'kill $SRV' EXIT"
        ),
    );
    assert_eq!(deploy["ok"], true, "{all}");
    assert_eq!(sim["success"], true, "{all}");
    let stats = &deploy["policy_server"];
    assert!(stats["answered"].as_u64().unwrap() > 5, "{all}");
    assert_eq!(stats["unanswered"], 0, "{all}");
    assert_eq!(stats["server_errors"], 0, "{all}");
    // The round trip includes sampling (DDIM-10) on this machine's CPU.
    assert!(
        stats["round_trip_ms"]["p50"].as_f64().unwrap() > 0.0,
        "{all}"
    );
}

/// The server dies mid-episode: the watchdog holds the arm at its deadline, the run ends with
/// that reason, and the log is complete (readable, the hold recorded, only holds after it).
#[test]
fn a_killed_policy_server_holds_the_arm_and_ends_the_run() {
    let _solo = common::solo();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let log = dir.path().join("killed.mcap");
    let (_sim, deploy, all) = sim_and_deploy(
        "",
        &format!(
            "--instruction 'clear the table' --policy remote:cell2 --log {}",
            log.display()
        ),
        &format!(
            "$E policy serve policies/models/table_clearing.json --name cell2 \
             > {d}/server.out 2> {d}/server.err &
             SRV=$!
             (sleep 8; kill -9 $SRV) &"
        ),
    );
    assert_eq!(deploy["stopped"]["kind"], "watchdog", "{all}");
    let why = deploy["stopped"]["detail"].as_str().unwrap_or_default();
    assert!(why.contains("no chunk from the policy"), "{all}");
    assert_eq!(deploy["ok"], false);
    assert!(all.contains("deploy exit 1"), "{all}");
    assert!(
        deploy["policy_server"]["answered"].as_u64().unwrap() > 3,
        "{all}"
    );
    only_holds_after(&log, "hold");
}

/// Two robots (two `embody run --policy remote` processes, lockstep simulators) share one
/// policy server at the same time; each clears its table.
#[test]
fn two_robots_share_one_policy_server() {
    let _solo = common::solo();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let out = in_private_network(&format!(
        "$E policy serve policies/models/table_clearing.json --name shared --verbose-requests \
             > {d}/server.out 2> {d}/server.err &
         SRV=$!
         for seed in 5000 5001; do
           $E run scenarios/table_clearing.toml --policy remote:shared --chunking rtc \
             --episodes 1 --seed $seed --json -q > {d}/run$seed.out 2> {d}/run$seed.err &
         done
         wait %2 %3
         kill $SRV"
    ));
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap_or_default();
    let all = format!(
        "{}{}\n--- server\n{}\n--- runs\n{}{}{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        read("server.err"),
        read("run5000.out"),
        read("run5000.err"),
        read("run5001.out"),
        read("run5001.err")
    );
    for seed in [5000, 5001] {
        let v = json_lines(&read(&format!("run{seed}.out")))
            .pop()
            .unwrap_or_else(|| panic!("no result for seed {seed}:\n{all}"));
        assert_eq!(v["success_rate"], 1.0, "seed {seed}:\n{all}");
        assert_eq!(v["policy"], "remote:shared");
    }
    let server = read("server.err");
    let robots: std::collections::BTreeSet<&str> = server
        .lines()
        .filter_map(|l| l.split(" from ").nth(1)?.split(':').next())
        .collect();
    assert_eq!(robots.len(), 2, "{server}");
}

/// With 50 ms of real network delay on the loopback (`tc netem` inside the namespace), a remote
/// deploy still puts the object in the bin (one object: see the test above). Needs the kernel's sch_netem; where it is missing (this
/// project's CI machine) the test says so and checks nothing else.
#[test]
fn deploy_with_a_remote_policy_over_50_ms_netem_delay() {
    let _solo = common::solo();
    let probe = in_private_network("tc qdisc add dev lo root netem delay 50ms && echo netem ok");
    if !String::from_utf8_lossy(&probe.stdout).contains("netem ok") {
        eprintln!(
            "SKIPPED: no netem here ({}); run on a kernel with sch_netem",
            String::from_utf8_lossy(&probe.stderr).trim()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let (sim, deploy, all) = sim_and_deploy(
        "",
        "--instruction 'put the blue box in the bin' --policy remote:far --chunking rtc \
         --inference-delay-ms 200 --policy-deadline-ms 400",
        &format!(
            "tc qdisc add dev lo root netem delay 50ms
             $E policy serve policies/models/table_clearing.json --name far \
             > {d}/server.out 2> {d}/server.err &
             SRV=$!
             trap 'kill $SRV' EXIT"
        ),
    );
    assert_eq!(deploy["ok"], true, "{all}");
    assert_eq!(sim["success"], true, "{all}");
    // A round trip crosses the delayed loopback twice (request, response).
    assert!(
        deploy["policy_server"]["round_trip_ms"]["p50"]
            .as_f64()
            .unwrap()
            >= 100.0,
        "{all}"
    );
}
