//! JointState latency over DDS: one participant publishes at a fixed rate, another receives;
//! the same messages through an in-process channel between two threads, in the same run, are
//! the reference.

use std::time::{Duration, Instant};

use embody_agent::clock::{percentile_us, WallRate};
use embody_agent::ros_msgs::{Header, JointStateMsg, Time};
use serde::Serialize;

use crate::security::Security;
use crate::transport::{default_qos, RosNode};
use crate::RosError;

#[derive(Clone, Debug, Serialize)]
pub struct Latency {
    pub sent: usize,
    pub received: usize,
    pub p50_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct LatencyReport {
    pub rate_hz: f64,
    pub seconds: f64,
    pub dds: Latency,
    /// A crossbeam channel between two threads: the cost of the handover alone.
    pub channel: Latency,
}

fn message(k: usize) -> JointStateMsg {
    JointStateMsg {
        header: Header {
            stamp: Time {
                sec: 0,
                nanosec: k as u32,
            },
            frame_id: String::new(),
        },
        name: (1..=9).map(|i| format!("panda_joint{i}")).collect(),
        position: vec![0.1; 9],
        velocity: vec![0.0; 9],
        effort: vec![0.0; 9],
    }
}

fn summarize(sent: usize, mut lat: Vec<Duration>) -> Latency {
    Latency {
        sent,
        received: lat.len(),
        p50_us: percentile_us(&mut lat, 50.0),
        p99_us: percentile_us(&mut lat, 99.0),
        max_us: percentile_us(&mut lat, 100.0),
    }
}

/// Publishes `rate_hz` JointStates for `seconds` on `topic` and measures when each arrives.
/// The message index rides in the stamp; both ends share this process's clock.
pub fn joint_state_latency(
    rate_hz: f64,
    seconds: f64,
    domain_id: u16,
    security: &Security,
) -> Result<LatencyReport, RosError> {
    let n = (rate_hz * seconds).round() as usize;
    let topic = "/embody/bench/joint_states";
    let q = default_qos();

    // DDS: two participants, as two processes would have.
    let mut pub_node = RosNode::new("bench_pub", domain_id, security)?;
    let mut sub_node = RosNode::new("bench_sub", domain_id, security)?;
    let publisher = pub_node.publisher::<JointStateMsg>(topic, &q)?;
    let subscription = sub_node.subscription::<JointStateMsg>(topic, &q)?;
    let sent_at = std::sync::Arc::new(std::sync::Mutex::new(vec![None::<Instant>; n]));
    let dds = std::thread::scope(|s| {
        let receiver = s.spawn(|| -> Result<Vec<Duration>, std::io::Error> {
            use ros2_client::dds::rustdds::mio1::{Events, Interest, Poll, Token};
            let mut subscription = subscription;
            let mut poll = Poll::new()?;
            poll.registry()
                .register(&mut subscription, Token(0), Interest::READABLE)?;
            let mut events = Events::with_capacity(8);
            let mut lat = Vec::with_capacity(n);
            let deadline = Instant::now() + Duration::from_secs_f64(seconds + 10.0);
            while lat.len() < n && Instant::now() < deadline {
                poll.poll(&mut events, Some(Duration::from_millis(200)))?;
                while let Ok(Some((m, _))) = subscription.take() {
                    let now = Instant::now();
                    let k = m.header.stamp.nanosec as usize;
                    if let Some(Some(t)) = sent_at.lock().ok().and_then(|v| v.get(k).copied()) {
                        lat.push(now - t);
                    }
                }
            }
            Ok(lat)
        });
        // Discovery first: publish nothing until the two ends have matched.
        std::thread::sleep(Duration::from_millis(1500));
        let mut rate = WallRate::new(rate_hz);
        for k in 0..n {
            rate.wait();
            if let Ok(mut v) = sent_at.lock() {
                v[k] = Some(Instant::now());
            }
            let _ = publisher.publish(message(k));
        }
        let lat = receiver
            .join()
            .map_err(|_| "the receiver panicked".to_string())
            .and_then(|r| r.map_err(|e| e.to_string()));
        lat.map(|l| summarize(n, l))
    })
    .map_err(|message| RosError::Setup {
        what: "the latency benchmark's receiver".into(),
        message,
    })?;

    // Reference: the same messages through a channel between two threads.
    let (tx, rx) = crossbeam_channel::unbounded::<(Instant, JointStateMsg)>();
    let channel = std::thread::scope(|s| {
        let receiver = s.spawn(move || {
            let mut lat = Vec::with_capacity(n);
            for (t, m) in rx {
                std::hint::black_box(&m);
                lat.push(t.elapsed());
            }
            lat
        });
        let mut rate = WallRate::new(rate_hz);
        for k in 0..n {
            rate.wait();
            let _ = tx.send((Instant::now(), message(k)));
        }
        drop(tx);
        summarize(n, receiver.join().unwrap_or_default())
    });
    Ok(LatencyReport {
        rate_hz,
        seconds,
        dds,
        channel,
    })
}
