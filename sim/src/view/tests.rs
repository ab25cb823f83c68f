//! The view model against the physics it mirrors, and the timeline's lookups.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use embody_agent::observer::{Event, EventKind};
use embody_agent::types::Skill;

use super::*;
use crate::scenario::Scenario;
use crate::world::World;
use embody_agent::Robot;

fn scenario() -> Arc<Scenario> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/table_clearing.toml");
    Arc::new(Scenario::from_file(&path).unwrap())
}

#[test]
fn scene_has_every_body_with_shapes() {
    let world = World::new(scenario(), 3).unwrap();
    let scene = SceneModel::from_world(&world).unwrap();
    let objects = scene
        .bodies
        .iter()
        .filter(|b| matches!(b.role, BodyRole::Object(_)))
        .count();
    assert_eq!(objects, world.objects.len());
    let links = scene
        .bodies
        .iter()
        .filter(|b| matches!(b.role, BodyRole::Link(_)))
        .count();
    assert_eq!(links, world.robot.link_bodies.len());
    assert!(
        scene.bodies.iter().all(|b| !b.parts.is_empty()),
        "a body with nothing to draw"
    );
}

/// Link poses from the joint positions must put every robot body where the physics has it,
/// after the arm has moved: that is what makes log playback show what happened.
#[test]
fn kinematics_matches_physics_bodies() {
    let world = World::new(scenario(), 1).unwrap();
    let scene = SceneModel::from_world(&world).unwrap();
    let mut robot = crate::SimRobot::new(world);
    let mut q = robot.world.scenario.robot.home.clone();
    q[0] += 0.4;
    q[3] += 0.3;
    q[5] -= 0.2;
    for _ in 0..400 {
        robot.world.set_targets(&q, &vec![0.0; q.len()], 0.03, 20.0);
        robot.world.step();
    }
    let obs = robot.observe().unwrap();
    let joints: HashMap<String, f64> = obs
        .joints
        .names
        .iter()
        .cloned()
        .zip(obs.joints.position.iter().copied())
        .collect();
    let frame = scene.frame(0.0, &joints, obs.gripper.width_m, &HashMap::new(), None);
    for (b, pose) in scene.bodies.iter().zip(&frame.poses) {
        let BodyRole::Link(link) = &b.role else {
            continue;
        };
        let h = robot
            .world
            .robot
            .link_bodies
            .iter()
            .find(|(l, _)| l == link)
            .unwrap()
            .1;
        let truth = robot.world.body_pose(h);
        let dp = (truth.translation.vector - pose.translation.vector).norm();
        let da = truth.rotation.angle_to(&pose.rotation);
        assert!(dp < 1e-4 && da < 1e-4, "{link}: {dp} m, {da} rad off");
    }
}

#[test]
fn timeline_finds_current_step() {
    let skill = |o: &str| Skill::Pick { object: o.into() };
    let ev = |t, kind: EventKind, s: &str, ok: Option<bool>| Event {
        t,
        kind,
        skill: Some(skill(s)),
        attempt: Some(1),
        success: ok,
        failure: None,
        detail: None,
    };
    let mut tl = Timeline::default();
    tl.push(ViewUpdate::Plan(PlanView {
        t: 0.0,
        instruction: "x".into(),
        steps: vec![skill("a"), skill("b"), skill("a")],
    }));
    for e in [
        ev(1.0, EventKind::SkillStart, "a", None),
        ev(2.0, EventKind::SkillEnd, "a", Some(true)),
        ev(3.0, EventKind::SkillStart, "b", None),
        ev(4.0, EventKind::SkillEnd, "b", Some(true)),
        ev(5.0, EventKind::SkillStart, "a", None),
    ] {
        tl.push(ViewUpdate::Event(e));
    }
    assert_eq!(tl.step_at(1.5), Some(0));
    assert_eq!(tl.step_at(2.5), None);
    assert_eq!(tl.step_at(3.5), Some(1));
    assert_eq!(tl.step_at(5.5), Some(2));
    assert_eq!(tl.steps_done(4.5), 2);
    assert_eq!(tl.events_until(3.0).len(), 3);
}
