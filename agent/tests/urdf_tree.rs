//! Malformed joint graphs in a URDF are typed errors naming the file and the joint or link,
//! never a hang: every walk of the graph relies on `check_joint_tree` having passed.

use std::path::Path;

use embody_agent::kinematics::check_joint_tree;
use embody_agent::{ArmModel, ModelError};

const ORIGIN: &str = "crafted/panda.urdf";

fn panda() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/robots/panda/panda.urdf");
    std::fs::read_to_string(path).unwrap()
}

/// The shipped Panda URDF with `from` replaced by `to` (exactly once).
fn edited(from: &str, to: &str) -> String {
    let text = panda();
    assert_eq!(text.matches(from).count(), 1, "{from}");
    text.replacen(from, to, 1)
}

fn model(text: &str) -> Result<ArmModel, ModelError> {
    ArmModel::from_urdf_str(text, ORIGIN, "panda_link0", "panda_hand_tcp")
}

#[test]
fn the_shipped_urdf_is_a_tree() {
    let robot = urdf_rs::read_from_string(&panda()).unwrap();
    check_joint_tree(&robot, ORIGIN).unwrap();
    assert_eq!(model(&panda()).unwrap().dof(), 7);
}

#[test]
fn a_cycle_off_the_arm_chain_is_an_error_naming_file_joint_and_link() {
    // The base link becomes the right finger's child: the chain from the TCP up to the base is
    // intact (the arm model used to accept this), but walking down from the base never ends.
    let text = edited(
        r#"<child link="panda_rightfinger"/>"#,
        r#"<child link="panda_link0"/>"#,
    );
    let e = model(&text).unwrap_err();
    assert!(matches!(e, ModelError::Cycle { .. }), "{e:?}");
    let msg = e.to_string();
    for want in [ORIGIN, "cycle", "panda_finger_joint2", "panda_joint1"] {
        assert!(msg.contains(want), "'{want}' missing from: {msg}");
    }
}

#[test]
fn a_cycle_on_the_arm_chain_is_an_error() {
    let text = edited(
        r#"<parent link="panda_link0"/>"#,
        r#"<parent link="panda_hand"/>"#,
    );
    let msg = model(&text).unwrap_err().to_string();
    assert!(
        msg.contains(ORIGIN) && msg.contains("cycle") && msg.contains("panda_joint1"),
        "{msg}"
    );
}

#[test]
fn a_joint_that_is_its_own_parent_is_a_cycle() {
    let text = edited(
        r#"<parent link="panda_hand"/><child link="panda_rightfinger"/>"#,
        r#"<parent link="panda_rightfinger"/><child link="panda_rightfinger"/>"#,
    );
    let msg = model(&text).unwrap_err().to_string();
    assert!(
        msg.contains("cycle") && msg.contains("'panda_rightfinger'"),
        "{msg}"
    );
}

#[test]
fn a_link_with_two_parents_is_an_error_naming_both_joints() {
    let text = edited(
        r#"<child link="panda_rightfinger"/>"#,
        r#"<child link="panda_leftfinger"/>"#,
    );
    let msg = model(&text).unwrap_err().to_string();
    for want in [
        ORIGIN,
        "panda_leftfinger",
        "panda_finger_joint1",
        "panda_finger_joint2",
    ] {
        assert!(msg.contains(want), "'{want}' missing from: {msg}");
    }
}

#[test]
fn a_joint_naming_a_missing_link_is_an_error() {
    let text = edited(
        r#"<parent link="panda_link3"/>"#,
        r#"<parent link="no_such_link"/>"#,
    );
    let msg = model(&text).unwrap_err().to_string();
    for want in [ORIGIN, "panda_joint4", "parent link 'no_such_link'"] {
        assert!(msg.contains(want), "'{want}' missing from: {msg}");
    }
}

#[test]
fn a_joint_name_used_twice_is_an_error() {
    let text = edited(
        r#"<joint name="panda_finger_joint2""#,
        r#"<joint name="panda_finger_joint1""#,
    );
    let msg = model(&text).unwrap_err().to_string();
    assert!(
        msg.contains("joint 'panda_finger_joint1' is defined twice"),
        "{msg}"
    );
}

#[test]
fn a_long_cycle_is_found_quickly_and_named_briefly() {
    // 20000 links in one ring: the check is linear and the message lists a few joints.
    let n = 20_000;
    let mut text = String::from(r#"<robot name="ring">"#);
    for i in 0..n {
        text.push_str(&format!(r#"<link name="l{i}"/>"#));
    }
    for i in 0..n {
        text.push_str(&format!(
            r#"<joint name="j{i}" type="fixed"><parent link="l{i}"/><child link="l{}"/></joint>"#,
            (i + 1) % n
        ));
    }
    text.push_str("</robot>");
    let robot = urdf_rs::read_from_string(&text).unwrap();
    let e = check_joint_tree(&robot, ORIGIN).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("cycle") && msg.contains("more"), "{msg}");
    assert!(msg.len() < 400, "{msg}");
}
