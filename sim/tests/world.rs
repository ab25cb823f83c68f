//! The rapier world agrees with the kinematic model and is deterministic.

use std::path::Path;
use std::sync::Arc;

use embody_sim::{Scenario, World};

fn scenario(name: &str) -> Arc<Scenario> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(name);
    Arc::new(Scenario::from_file(&path).unwrap())
}

#[test]
fn physics_and_kinematics_agree_on_the_tcp() {
    let s = scenario("table_clearing.toml");
    let mut world = World::new(s.clone(), 3).unwrap();
    let fk = world.arm.forward(&s.robot.home);
    let sim = world.tcp_pose();
    assert!(
        (fk.translation.vector - sim.translation.vector).norm() < 1e-4,
        "{fk} vs {sim}"
    );
    assert!(fk.rotation.angle_to(&sim.rotation) < 1e-3);
    // Holding the home pose for a second: the motors keep the arm within a few mm of it.
    for _ in 0..240 {
        world.step();
    }
    let (q, _) = world.arm_state();
    for (a, b) in q.iter().zip(&s.robot.home) {
        assert!((a - b).abs() < 0.01, "joint drifted: {q:?}");
    }
    assert!(
        (world.gripper_width() - 0.08).abs() < 1e-3,
        "gripper starts open"
    );
}

#[test]
fn objects_start_apart_on_the_table_and_stay_put() {
    let s = scenario("table_clearing_cluttered.toml");
    for seed in 0..20 {
        let mut world = World::new(s.clone(), seed).unwrap();
        let n = world.objects.len();
        assert!((8..=10).contains(&n), "seed {seed}: {n} objects");
        let before = world.object_poses();
        for _ in 0..120 {
            world.step();
        }
        for (a, b) in before.iter().zip(world.object_poses()) {
            let d = (a.pose_in_base.translation.vector - b.pose_in_base.translation.vector).norm();
            assert!(d < 0.003, "seed {seed}: {} moved {d} m while resting", a.id);
        }
    }
}

#[test]
fn same_seed_same_bits() {
    let s = scenario("table_clearing.toml");
    let run = |seed| {
        let mut w = World::new(s.clone(), seed).unwrap();
        let home = s.robot.home.clone();
        for k in 0..600 {
            let mut q = home.clone();
            q[0] = 0.3 * (k as f64 * 0.01).sin();
            w.set_targets(&q, &[0.0; 7], 0.0, 20.0);
            w.step();
        }
        w.state_hash()
    };
    assert_eq!(run(5), run(5));
    assert_ne!(run(5), run(6));
}
