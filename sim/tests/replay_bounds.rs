//! A replay simulates up to the times a log holds: a stamp past the end of any episode of the
//! recorded scenario is an error naming the log and the record, never a replay that steps the
//! physics for ever.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use embody_agent::log::{
    LogMessage, OutcomeRecord, RecorderConfig, RecoveredLog, ScenarioRecord, JOINT_STATES_TOPIC,
    OUTCOME_TOPIC, SCENARIO_TOPIC,
};
use embody_agent::ros_msgs::{JointStateMsg, RosMessage};
use embody_sim::replay::{verify, ReplayError, VerifyReport, REPLAY_MARGIN_S};
use embody_sim::Scenario;

const LOG: &str = "crafted/episode.mcap";

fn shipped() -> (String, PathBuf) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/table_clearing.toml");
    (std::fs::read_to_string(&path).unwrap(), path)
}

fn message(topic: &str, log_time_ns: u64, data: Vec<u8>) -> LogMessage {
    LogMessage {
        topic: topic.into(),
        schema_name: String::new(),
        encoding: String::new(),
        log_time_ns,
        sequence: 0,
        data,
    }
}

/// A log of the shipped scenario (seed 0) holding `rest` after its scenario record.
fn log_with(rest: Vec<LogMessage>) -> RecoveredLog {
    let (text, path) = shipped();
    let scenario = Scenario::from_file(&path).unwrap();
    let rec = ScenarioRecord {
        scenario_text: text,
        scenario_path: path.display().to_string(),
        urdf_text: scenario.read_urdf().unwrap(),
        seed: 0,
        instruction: "clear the table".into(),
        policy: "scripted".into(),
        build: embody_sim::build_info(),
        physics: serde_json::json!({}),
    };
    let mut messages = vec![message(
        SCENARIO_TOPIC,
        0,
        serde_json::to_vec(&rec).unwrap(),
    )];
    messages.extend(rest);
    RecoveredLog {
        path: LOG.into(),
        messages,
        lost: None,
        file_bytes: 0,
    }
}

fn joint_state_at(log_time_ns: u64) -> LogMessage {
    message(
        JOINT_STATES_TOPIC,
        log_time_ns,
        JointStateMsg::default().to_cdr(),
    )
}

/// Verifies on another thread: without a bound on the stamps this never returns, and the test
/// must fail rather than hang.
fn verify_within(log: RecoveredLog, seconds: u64) -> Result<VerifyReport, ReplayError> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(verify(&log, &RecorderConfig::default()));
    });
    rx.recv_timeout(Duration::from_secs(seconds))
        .expect("the replay must end: it is stepping towards a stamp from the log")
}

#[test]
fn a_stamp_within_the_episode_replays() {
    let report = verify_within(log_with(vec![joint_state_at(1_000_000_000)]), 120).unwrap();
    assert_eq!(report.states_compared, 1);
}

#[test]
fn a_stamp_decades_away_is_an_error_naming_the_log_and_the_record() {
    // 10^18 ns, 31 years: 7.5 * 10^12 physics steps at 240 Hz.
    let log = log_with(vec![
        joint_state_at(1_000_000_000),
        joint_state_at(1_000_000_000_000_000_000),
    ]);
    let e = verify_within(log, 60).unwrap_err();
    assert!(
        matches!(e, ReplayError::PastTheEnd { index: 3, .. }),
        "{e:?}"
    );
    let msg = e.to_string();
    for want in [LOG, JOINT_STATES_TOPIC, "message 3", "time_limit_s of 90 s"] {
        assert!(msg.contains(want), "'{want}' missing from: {msg}");
    }
}

#[test]
fn a_stamp_just_past_the_bound_is_refused_before_stepping() {
    // The bound is twice the shipped scenario's 90 s time limit plus the margin.
    let limit_s = 2.0 * 90.0 + REPLAY_MARGIN_S;
    let ns = ((limit_s + 1.0) * 1e9) as u64;
    let e = verify_within(log_with(vec![joint_state_at(ns)]), 60).unwrap_err();
    assert!(matches!(e, ReplayError::PastTheEnd { .. }), "{e:?}");
}

#[test]
fn an_outcome_with_an_absurd_step_count_is_an_error() {
    let outcome = OutcomeRecord {
        success: true,
        objects_cleared: 0,
        objects_total: 0,
        objects: Vec::new(),
        sim_time_s: 1.0,
        sim_steps: u64::MAX,
        state_hash: "0".into(),
        stopped: None,
        plan_error: None,
    };
    let log = log_with(vec![message(
        OUTCOME_TOPIC,
        1_000_000_000,
        serde_json::to_vec(&outcome).unwrap(),
    )]);
    let msg = verify_within(log, 60).unwrap_err().to_string();
    assert!(
        msg.contains(LOG) && msg.contains(OUTCOME_TOPIC) && msg.contains("message 2"),
        "{msg}"
    );
}

#[test]
fn the_scenario_bounds_what_a_replay_may_simulate() {
    // The bound is derived from the recorded scenario, so the scenario caps its time limit and
    // physics step: a log cannot name a scenario that takes for ever either.
    let (text, path) = shipped();
    for (from, to, key) in [
        ("time_limit_s = 90.0", "time_limit_s = 1e12", "time_limit_s"),
        ("dt = 0.004166666666666667", "dt = 1e-9", "physics.dt"),
    ] {
        assert!(text.contains(from), "{from}");
        let msg = Scenario::from_str_at(&text.replacen(from, to, 1), &path)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("table_clearing.toml") && msg.contains(key),
            "{msg}"
        );
    }
}
