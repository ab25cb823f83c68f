//! DDS-Security end to end, in a private network namespace: a keystore made by `embody security`,
//! the simulated robot and `embody deploy` secured by it, and nodes without keys (Cyclone DDS
//! from Python, embody without `--enclave`) that must neither see nor move the arm. The wire is
//! captured on the loopback to check that joint names never cross it in plaintext.

mod common;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use common::{embody, embody_ok, in_private_network, json_lines, python};

/// A keystore with the enclaves the tests use.
fn keystore(dir: &Path) {
    let ks = dir.to_str().unwrap();
    embody_ok(&["security", "keystore", ks]);
    for e in ["robot", "deploy", "operator", "observer"] {
        embody_ok(&["security", "key", ks, &format!("/embody/{e}")]);
    }
}

/// Each test runs a secured robot, a deploy and more in real time (120 Hz control, encrypted
/// RTPS). Two of them at once on a 2-core CI machine starved a control thread past the
/// watchdog's 50 ms deadline, so they take turns: what they check is security, not how the
/// watchdog behaves on an overloaded machine (ros_e2e covers that).
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn text(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
}

/// The same robot, with and without security, while a keyless Cyclone DDS participant listens
/// for joint states and commands the arm and the e-stop, and the loopback is captured.
/// Without security (the control): it reads the robot, moves the arm, and joint names are on
/// the wire. With security: nothing of that.
#[test]
fn keyless_nodes_neither_see_nor_move_a_secured_robot() {
    let _turn = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("keystore");
    keystore(&ks);
    let py = python();
    let py = py.display();
    let run = |sim_security: &str| {
        let d = dir.path().display();
        let out = in_private_network(&format!(
            "{py} scripts/capture_lo.py --seconds 11 --needle panda_joint > {d}/cap.out &
             CAP=$!
             $E sim --ros scenarios/table_clearing.toml --duration-s 12 {sim_security} > {d}/sim.out 2> {d}/sim.err &
             SIM=$!
             sleep 1
             {py} scripts/ros_interop.py intruder --seconds 8 > {d}/intruder.out &
             $E deploy --check --wait-s 6 --json > {d}/check.out 2> {d}/check.err
             echo check exit $?
             wait"
        ));
        let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap_or_default();
        let all = format!(
            "{}\n--- sim\n{}{}\n--- intruder\n{}\n--- check\n{}{}\n--- capture\n{}",
            text(&out),
            read("sim.out"),
            read("sim.err"),
            read("intruder.out"),
            read("check.out"),
            read("check.err"),
            read("cap.out")
        );
        let last = |f: &str| {
            json_lines(&read(f))
                .pop()
                .unwrap_or_else(|| panic!("no JSON in {f}:\n{all}"))
        };
        (last("sim.out"), last("intruder.out"), last("cap.out"), all)
    };

    // The control: plain DDS.
    let (sim, intruder, cap, all) = run("");
    assert!(
        intruder["joint_states_received"].as_u64().unwrap() > 100,
        "{all}"
    );
    assert!(sim["accepted_trajectories"].as_u64().unwrap() > 0, "{all}");
    assert!(sim["max_joint_travel_rad"].as_f64().unwrap() > 0.3, "{all}");
    assert!(cap["found"].as_u64().unwrap() > 0, "{all}");
    // ... and its e-stop stops an unsecured embody.
    assert!(all.contains("e-stop pressed"), "{all}");

    // Secured: the same, with the robot's enclave.
    let (sim, intruder, cap, all) = run(&format!(
        "--enclave /embody/robot --keystore {}",
        ks.display()
    ));
    assert!(all.contains("DDS security: enclave /embody/robot"), "{all}");
    assert_eq!(intruder["joint_states_received"], 0, "{all}");
    assert!(intruder["commands_sent"].as_u64().unwrap() > 50, "{all}");
    assert_eq!(sim["accepted_trajectories"], 0, "{all}");
    assert!(
        sim["max_joint_travel_rad"].as_f64().unwrap() < 0.01,
        "{all}"
    );
    // embody without --enclave: no joint states either (and it said it runs unsecured).
    assert!(all.contains("nothing on /joint_states"), "{all}");
    assert!(all.contains("DDS security is off"), "{all}");
    // Traffic flowed (the robot's discovery and data, encrypted), with no joint name readable.
    assert!(cap["udp_packets"].as_u64().unwrap() > 100, "{all}");
    assert_eq!(cap["found"], 0, "{all}");
}

/// Secured deploy against the secured robot: the task gets done; an e-stop from a node without
/// keys is not heard, one from the operator's enclave stops the run. The e-stop node starts
/// before deploy: a secured participant joining mid-run makes the others run the
/// authentication handshake, and on this 2-core machine that has delayed joint states past
/// deploy's 100 ms stale limit (2 runs of 4), which stops the run for another reason.
#[test]
fn secured_deploy_works_and_only_the_operator_can_stop_it() {
    let _turn = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("keystore");
    keystore(&ks);
    let k = ks.display();
    let run = |estop: &str| {
        let d = dir.path().display();
        let out = in_private_network(&format!(
            "$E sim --ros scenarios/table_clearing.toml --exit-when-done --duration-s 90 \
                 --enclave /embody/robot --keystore {k} > {d}/sim.out 2> {d}/sim.err &
             SIM=$!
             $E estop --seconds 14 {estop} > {d}/estop.out 2>&1 &
             sleep 1
             $E deploy --json --instruction 'put the red cube in the bin' \
                 --enclave /embody/deploy --keystore {k} > {d}/deploy.out 2> {d}/deploy.err
             echo deploy exit $?
             kill $SIM 2>/dev/null
             wait"
        ));
        let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap_or_default();
        let all = format!(
            "{}\n--- deploy\n{}{}\n--- estop\n{}\n--- sim\n{}",
            text(&out),
            read("deploy.out"),
            read("deploy.err"),
            read("estop.out"),
            read("sim.err")
        );
        let deploy = json_lines(&read("deploy.out"))
            .pop()
            .unwrap_or_else(|| panic!("no deploy result:\n{all}"));
        (deploy, all)
    };
    let (deploy, all) = run("");
    assert_eq!(deploy["ok"], true, "{all}");
    assert!(deploy["stopped"].is_null(), "{all}");
    assert!(all.contains("e-stop sent"), "{all}");

    let (deploy, all) = run(&format!("--enclave /embody/operator --keystore {k}"));
    assert_eq!(deploy["stopped"]["kind"], "safety_stop", "{all}");
    assert!(
        deploy["stopped"]["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("e-stop"),
        "{all}"
    );
}

/// What is refused before anything moves: an enclave whose permissions do not include the
/// controller topic, an expired certificate, a missing key under Enforce.
#[test]
fn nodes_without_the_right_keys_are_refused_with_the_reason() {
    let _turn = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("keystore");
    keystore(&ks);
    let k = ks.to_str().unwrap();

    // Valid keys, but an observer may not publish trajectories.
    let out = in_private_network(&format!(
        "$E deploy --check --wait-s 3 --gripper-interface topic \
             --enclave /embody/observer --keystore {k}"
    ));
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains("/panda_arm_controller/joint_trajectory"), "{t}");
    assert!(t.contains("not allowed by security"), "{t}");
    assert!(
        t.contains("rt/panda_arm_controller/joint_trajectory"),
        "{t}"
    );

    // An expired certificate: refused, naming the file.
    embody_ok(&[
        "security",
        "key",
        k,
        "/embody/deploy",
        "--days",
        "30",
        "--backdate-days",
        "60",
    ]);
    let out = embody(&[
        "deploy",
        "--check",
        "--enclave",
        "/embody/deploy",
        "--keystore",
        k,
    ]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(
        t.contains("enclaves/embody/deploy/cert.pem") && t.contains("expired"),
        "{t}"
    );

    // Enforce with a keystore that lacks the enclave: an error naming the missing file.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_embody"))
        .args(["estop", "--seconds", "0.1"])
        .env("ROS_SECURITY_ENABLE", "true")
        .env("ROS_SECURITY_STRATEGY", "Enforce")
        .env("ROS_SECURITY_KEYSTORE", k)
        .env("ROS_SECURITY_ENCLAVE_OVERRIDE", "/lab/nobody")
        .current_dir(common::repo())
        .output()
        .unwrap();
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(
        t.contains("enclaves/lab/nobody/identity_ca.cert.pem") && t.contains("missing"),
        "{t}"
    );
}

/// ROS 2's environment instead of flags, each command with its own enclave (sim /embody/robot,
/// deploy /embody/deploy, policy serve /embody/policy): a secured policy server drives a
/// secured deploy.
#[test]
fn ros_security_environment_secures_the_policy_server_too() {
    let _turn = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let ks = dir.path().join("keystore");
    let k = ks.to_str().unwrap();
    embody_ok(&["security", "keystore", k]);
    for e in ["robot", "deploy", "policy"] {
        embody_ok(&["security", "key", k, &format!("/embody/{e}")]);
    }
    let d = dir.path().display();
    let out = in_private_network(&format!(
        "export ROS_SECURITY_KEYSTORE={k} ROS_SECURITY_ENABLE=true ROS_SECURITY_STRATEGY=Enforce
         $E policy serve policies/models/table_clearing.json --name cell > /dev/null 2> {d}/server.err &
         SRV=$!
         trap 'kill $SRV 2>/dev/null' EXIT
         $E sim --ros scenarios/table_clearing.toml --exit-when-done --duration-s 90 > /dev/null 2> {d}/sim.err &
         sleep 1
         $E deploy --json --instruction 'put the blue box in the bin' --policy remote:cell \
             > {d}/deploy.out 2> {d}/deploy.err
         echo deploy exit $?
         wait %2"
    ));
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap_or_default();
    let all = format!(
        "{}\n--- server\n{}\n--- sim\n{}\n--- deploy\n{}{}",
        text(&out),
        read("server.err"),
        read("sim.err"),
        read("deploy.out"),
        read("deploy.err")
    );
    for (who, enclave) in [
        ("server.err", "/embody/policy"),
        ("sim.err", "/embody/robot"),
        ("deploy.err", "/embody/deploy"),
    ] {
        assert!(
            read(who).contains(&format!("DDS security: enclave {enclave}")),
            "{who}: {all}"
        );
    }
    let deploy = json_lines(&read("deploy.out"))
        .pop()
        .unwrap_or_else(|| panic!("no deploy result:\n{all}"));
    assert_eq!(deploy["ok"], true, "{all}");
    assert!(
        deploy["policy_server"]["answered"].as_u64().unwrap() > 0,
        "{all}"
    );
}
