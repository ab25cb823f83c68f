//! The diffusion policy across the network: `embody policy serve` answers the ROS 2 service
//! `/embody/policy/<name>/compute_chunk` (`embody_msgs/srv/ComputeChunk`, see
//! `ros/interfaces/embody_msgs/srv/ComputeChunk.srv`), and [`RemotePolicy`] is the agent's
//! `Policy` on the robot side that asks it. The server keeps no state per robot: each request
//! carries the observation features and the chunk executing now, so several robots share one
//! server and a restarted server answers the next request like the old one. The server also
//! publishes its model's metadata (latched) on `/embody/policy/<name>/model`, from which the
//! robot side takes its horizons and rates.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use embody_agent::clock::LatencyHistogram;
use embody_agent::ros_msgs::{ChunkReplyMsg, ChunkRequestMsg, StringMsg};
use embody_agent::{ActionChunk, Observation, Policy, PolicyError, SceneGraph, Skill};
use embody_policies::diffusion::{
    chunk_from_rows, delay_periods, is_next_chunk_observation, RemoteRequest,
};
use embody_policies::features::Framer;
use embody_policies::{Chunking, DiffusionPolicy, ModelMeta};
use ros2_client::{Client, Name, RmwRequestId, Server, ServiceMapping, ServiceTypeName};
use serde::{Deserialize, Serialize};

use crate::security::Security;
use crate::transport::{default_qos, latched_qos, RosNode};
use crate::RosError;

/// The service's name for a server called `name`.
pub fn service_name(name: &str) -> String {
    format!("/embody/policy/{name}/compute_chunk")
}

/// The latched topic with the served model's metadata (JSON).
pub fn model_topic(name: &str) -> String {
    format!("/embody/policy/{name}/model")
}

/// A message as ros2-client's services want it (its `Message` trait), with the same bytes.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Wire<T>(pub T);

impl<T: Serialize + serde::de::DeserializeOwned> ros2_client::Message for Wire<T> {}

fn setup(what: impl Into<String>, e: impl std::fmt::Debug) -> RosError {
    RosError::Setup {
        what: what.into(),
        message: format!("{e:?}"),
    }
}

fn service_names(name: &str) -> Result<(Name, ServiceTypeName), RosError> {
    let service = Name::new(&format!("/embody/policy/{name}"), "compute_chunk")
        .map_err(|e| setup(format!("service name for policy server {name:?}"), e))?;
    Ok((service, ServiceTypeName::new("embody_msgs", "ComputeChunk")))
}

/// What the server did, for its report.
#[derive(Default)]
pub struct ServeStats {
    pub requests: u64,
    pub pings: u64,
    pub errors: u64,
    pub robots: std::collections::BTreeSet<String>,
    pub compute: LatencyHistogram,
}

/// Serves `policy` as `name` until `stop` is set. `on_request` sees each answered request
/// (robot, compute time, error) for progress output.
pub fn serve(
    mut policy: DiffusionPolicy,
    name: &str,
    domain_id: u16,
    security: &Security,
    stop: &AtomicBool,
    mut on_request: impl FnMut(&str, Duration, Option<&str>),
) -> Result<ServeStats, RosError> {
    let meta_json = serde_json::to_string(policy.meta())
        .map_err(|e| setup("the model's metadata as JSON", e))?;
    let mut node = RosNode::new(
        &format!("policy_server_{}", node_safe(name)),
        domain_id,
        security,
    )?;
    let model_out = node.publisher::<StringMsg>(&model_topic(name), &latched_qos())?;
    let (service, type_name) = service_names(name)?;
    let server: Server<Wire<ChunkRequestMsg>, Wire<ChunkReplyMsg>> = node
        .node_mut()
        .create_server(
            ServiceMapping::Enhanced,
            &service,
            &type_name,
            default_qos(),
            default_qos(),
        )
        .map_err(|e| setup(format!("the service {}", service_name(name)), e))?;
    model_out
        .publish(StringMsg { data: meta_json })
        .map_err(|e| setup("publishing the model's metadata", e))?;
    let mut stats = ServeStats::default();
    while !stop.load(Ordering::Relaxed) {
        let (id, Wire(req)) = match server.receive_request() {
            Ok(Some(r)) => r,
            Ok(None) => {
                std::thread::sleep(Duration::from_micros(500));
                continue;
            }
            Err(e) => {
                // A request that does not decode is dropped, not the server.
                tracing::warn!(error = ?e, "dropped an undecodable request");
                stats.errors += 1;
                continue;
            }
        };
        if req.observations.is_empty() {
            // A ping (a robot side checking the path both ways): an empty answer.
            let _ = server.send_response(id, Wire(ChunkReplyMsg::default()));
            stats.pings += 1;
            continue;
        }
        let began = Instant::now();
        let reply = answer(&mut policy, &req);
        let took = began.elapsed();
        stats.requests += 1;
        stats.compute.record(took);
        stats.robots.insert(req.robot.clone());
        let error = (!reply.error.is_empty()).then_some(reply.error.clone());
        if error.is_some() {
            stats.errors += 1;
        }
        if let Err(e) = server.send_response(
            id,
            Wire(ChunkReplyMsg {
                compute_ms: took.as_secs_f64() * 1e3,
                ..reply
            }),
        ) {
            tracing::warn!(error = ?e, robot = req.robot, "could not send a response");
        }
        on_request(&req.robot, took, error.as_deref());
    }
    Ok(stats)
}

/// A node name may hold letters, digits and underscores.
fn node_safe(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

fn answer(policy: &mut DiffusionPolicy, req: &ChunkRequestMsg) -> ChunkReplyMsg {
    let fail = |error: String| ChunkReplyMsg {
        start: req.stamp,
        error,
        ..ChunkReplyMsg::default()
    };
    let chunking: Chunking = match req.chunking.parse() {
        Ok(c) => c,
        Err(e) => return fail(e.to_string()),
    };
    if !req.stamp.is_finite() || !req.committed_start.is_finite() {
        return fail("stamp and committed_start must be finite".into());
    }
    let observations: Vec<f32> = req.observations.iter().map(|v| *v as f32).collect();
    let committed: Vec<f32> = req.committed.iter().map(|v| *v as f32).collect();
    if observations
        .iter()
        .chain(&committed)
        .any(|v| !v.is_finite())
    {
        return fail("observations and committed actions must be finite".into());
    }
    let request = RemoteRequest {
        observations: &observations,
        stamp: req.stamp,
        committed: (!committed.is_empty()).then_some((req.committed_start, committed.as_slice())),
        delay_periods: req.delay_periods as usize,
        chunking,
        noise_seed: u64::from(req.noise_seed),
    };
    match policy.compute_for(&request) {
        Ok(rows) => ChunkReplyMsg {
            start: req.stamp,
            actions: rows.iter().map(|v| f64::from(*v)).collect(),
            error: String::new(),
            compute_ms: 0.0,
        },
        Err(e) => fail(e.to_string()),
    }
}

/// Request round trips as the robot side saw them.
#[derive(Default)]
pub struct RemoteStats {
    pub requests: u64,
    pub answered: u64,
    /// Requests with no answer within the wait (late or lost).
    pub unanswered: u64,
    pub server_errors: u64,
    pub round_trip: LatencyHistogram,
}

impl RemoteStats {
    pub fn to_json(&self) -> serde_json::Value {
        let ms = |p: f64| self.round_trip.percentile_us(p) / 1e3;
        serde_json::json!({
            "requests": self.requests,
            "answered": self.answered,
            "unanswered": self.unanswered,
            "server_errors": self.server_errors,
            "round_trip_ms": {"p50": ms(50.0), "p99": ms(99.0), "max": ms(100.0)},
        })
    }
}

/// How the robot side asks.
#[derive(Clone, Debug)]
pub struct RemoteOptions {
    /// The server's name (`embody policy serve --name`).
    pub name: String,
    pub domain_id: u16,
    /// DDS-Security for the client's node (the robot's own enclave).
    pub security: Security,
    /// This robot's name in requests.
    pub robot: String,
    /// Longest wait for a chunk after it is due. On the wall clock the control stage's
    /// watchdog holds the arm at its own deadline; this should be longer so the hold comes
    /// first.
    pub answer_within: Duration,
    /// Longest wait for the server at start.
    pub connect_within: Duration,
    /// Inference delay emulated as in `DiffusionOptions` (None: one period).
    pub inference_delay_s: Option<f64>,
    pub chunking: Chunking,
}

/// A request in flight.
struct InFlight {
    id: RmwRequestId,
    start: f64,
    sent: Instant,
}

/// The agent's `Policy`, computed by a policy server.
pub struct RemotePolicy {
    // Dropped last: the client's DDS entities belong to the node's participant.
    client: Client<Wire<ChunkRequestMsg>, Wire<ChunkReplyMsg>>,
    _node: RosNode,
    opts: RemoteOptions,
    meta: ModelMeta,
    delay_periods: usize,
    history: VecDeque<Vec<f32>>,
    /// The model's feature frame, fixed at each skill attempt's first observation.
    framer: Framer,
    since_chunk: usize,
    pending: Option<InFlight>,
    /// The chunk executing: its start and rows, sent with the next request.
    committed: Option<(f64, Vec<f64>)>,
    seq: u32,
    stats: Arc<Mutex<RemoteStats>>,
}

impl RemotePolicy {
    /// Joins the DDS domain, reads the server's model and checks that it answers.
    pub fn connect(opts: RemoteOptions, stats: Arc<Mutex<RemoteStats>>) -> Result<Self, RosError> {
        let mut node = RosNode::new(
            &format!("remote_policy_{}", node_safe(&opts.robot)),
            opts.domain_id,
            &opts.security,
        )?;
        let model_in = node.subscription::<StringMsg>(&model_topic(&opts.name), &latched_qos())?;
        let (service, type_name) = service_names(&opts.name)?;
        let client: Client<Wire<ChunkRequestMsg>, Wire<ChunkReplyMsg>> = node
            .node_mut()
            .create_client(
                ServiceMapping::Enhanced,
                &service,
                &type_name,
                default_qos(),
                default_qos(),
            )
            .map_err(|e| setup(format!("a client of {}", service_name(&opts.name)), e))?;
        let (name, domain, waited_s) = (
            opts.name.clone(),
            opts.domain_id,
            opts.connect_within.as_secs_f64(),
        );
        let no_server = move |what: &str| RosError::NoData {
            topic: service_name(&name),
            waited_s,
            hint: format!(
                "{what}; start `embody policy serve MODEL.json --name {name}` on domain {domain}"
            ),
        };
        let until = Instant::now() + opts.connect_within;
        let meta = loop {
            if let Ok(Some((m, _))) = model_in.take() {
                break ModelMeta::from_json_str(&m.data).map_err(|e| RosError::BadMessage {
                    topic: model_topic(&opts.name),
                    message: e.to_string(),
                })?;
            }
            if Instant::now() > until {
                return Err(no_server("no policy server published its model"));
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let delay_periods =
            delay_periods(&meta, opts.inference_delay_s).map_err(|e| RosError::Setup {
                what: "the inference delay".into(),
                message: e.to_string(),
            })?;
        let framer = Framer::new(meta.layout());
        let policy = RemotePolicy {
            client,
            _node: node,
            opts,
            meta,
            delay_periods,
            history: VecDeque::new(),
            framer,
            since_chunk: 0,
            pending: None,
            committed: None,
            seq: 0,
            stats,
        };
        // The service path both ways: a ping (no observations), repeated until the answer
        // comes, since requests written before the server's reader is matched are lost.
        loop {
            let id = policy
                .client
                .send_request(Wire(ChunkRequestMsg {
                    robot: policy.opts.robot.clone(),
                    chunking: "naive".into(),
                    ..ChunkRequestMsg::default()
                }))
                .map_err(|e| setup("a request to the policy server", e))?;
            let wait = Instant::now() + Duration::from_millis(250);
            while Instant::now() < wait {
                if let Ok(Some((got, _))) = policy.client.receive_response() {
                    if got == id {
                        return Ok(policy);
                    }
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            if Instant::now() > until {
                return Err(no_server(
                    "the policy server published its model but does not answer",
                ));
            }
        }
    }

    pub fn meta(&self) -> &ModelMeta {
        &self.meta
    }

    fn push_observation(
        &mut self,
        obs: &Observation,
        scene: &SceneGraph,
        skill: &Skill,
    ) -> Result<(), PolicyError> {
        let f = self
            .framer
            .observation(obs, scene, skill)
            .map_err(|e| PolicyError::MissingInput(e.to_string()))?;
        self.history.push_back(f);
        while self.history.len() > self.meta.obs.horizon {
            self.history.pop_front();
        }
        Ok(())
    }

    fn send(&mut self, start: f64) -> Result<(), PolicyError> {
        self.seq = self.seq.wrapping_add(1);
        let (committed_start, committed) = match &self.committed {
            Some((s, rows)) => (*s, rows.clone()),
            None => (0.0, Vec::new()),
        };
        let req = ChunkRequestMsg {
            robot: self.opts.robot.clone(),
            noise_seed: self.seq,
            stamp: start,
            observations: self
                .history
                .iter()
                .flatten()
                .map(|v| f64::from(*v))
                .collect(),
            committed_start,
            committed,
            delay_periods: self.delay_periods as u32,
            chunking: self.opts.chunking.to_string(),
        };
        let id = self.client.send_request(Wire(req)).map_err(|e| {
            PolicyError::Unavailable(format!(
                "cannot send to the policy server {}: {e:?}",
                self.opts.name
            ))
        })?;
        if let Ok(mut s) = self.stats.lock() {
            s.requests += 1;
        }
        self.pending = Some(InFlight {
            id,
            start,
            sent: Instant::now(),
        });
        Ok(())
    }

    /// Waits for the answer to the request in flight.
    fn receive(&mut self) -> Result<ActionChunk, PolicyError> {
        let Some(f) = self.pending.take() else {
            return Err(PolicyError::Other("no request in flight".into()));
        };
        let until = Instant::now() + self.opts.answer_within;
        loop {
            match self.client.receive_response() {
                Ok(Some((id, Wire(reply)))) if id == f.id => {
                    let mut stats = self.stats.lock().ok();
                    if let Some(s) = stats.as_mut() {
                        s.answered += 1;
                        s.round_trip.record(f.sent.elapsed());
                    }
                    if !reply.error.is_empty() {
                        if let Some(s) = stats.as_mut() {
                            s.server_errors += 1;
                        }
                        return Err(PolicyError::Other(format!(
                            "policy server {}: {}",
                            self.opts.name, reply.error
                        )));
                    }
                    let rows: Vec<f32> = reply.actions.iter().map(|v| *v as f32).collect();
                    let chunk = chunk_from_rows(&self.meta, &self.framer, f.start, &rows)?;
                    self.committed = Some((f.start, reply.actions));
                    return Ok(chunk);
                }
                // An answer to an older request (late, or from before a reset): not ours.
                Ok(Some(_)) => {}
                Ok(None) => std::thread::sleep(Duration::from_micros(200)),
                Err(e) => tracing::warn!(error = ?e, "dropped an undecodable response"),
            }
            if Instant::now() > until {
                if let Ok(mut s) = self.stats.lock() {
                    s.unanswered += 1;
                }
                return Err(PolicyError::Unavailable(format!(
                    "no chunk from the policy server {} within {:.0} ms",
                    self.opts.name,
                    self.opts.answer_within.as_secs_f64() * 1e3
                )));
            }
        }
    }
}

impl Policy for RemotePolicy {
    fn reset(&mut self) {
        self.history.clear();
        self.framer.reset();
        self.since_chunk = 0;
        self.pending = None;
        self.committed = None;
    }

    fn marks_completion(&self) -> bool {
        false
    }

    fn observation_period(&self) -> Option<f64> {
        Some(self.meta.action.dt)
    }

    fn observe(&mut self, obs: &Observation, scene: &SceneGraph, skill: &Skill) {
        if self.push_observation(obs, scene, skill).is_err() {
            return;
        }
        self.since_chunk += 1;
        if is_next_chunk_observation(&self.meta, self.since_chunk, self.delay_periods)
            && self.pending.is_none()
        {
            // A send that fails shows up in `act` as no request in flight, then a fresh one.
            let _ = self.send(obs.stamp);
        }
    }

    fn act(
        &mut self,
        obs: &Observation,
        scene: &SceneGraph,
        skill: &Skill,
    ) -> Result<ActionChunk, PolicyError> {
        self.since_chunk = 0;
        if self.pending.is_some() {
            let chunk = self.receive();
            self.push_observation(obs, scene, skill)?;
            return chunk;
        }
        self.push_observation(obs, scene, skill)?;
        self.send(obs.stamp)?;
        self.receive()
    }
}

#[cfg(test)]
mod tests {
    use super::answer;
    use embody_agent::ros_msgs::{ChunkReplyMsg, ChunkRequestMsg, RosMessage};
    use embody_policies::{DiffusionOptions, DiffusionPolicy};

    /// Crafted requests get an error in the answer, never a panic; a good one gets a chunk.
    #[test]
    fn crafted_requests_are_answered_with_errors() {
        let model = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../policies/tests/data/tiny.json"
        );
        let mut policy = DiffusionPolicy::load(
            std::path::Path::new(model),
            DiffusionOptions {
                pipeline: false,
                ..DiffusionOptions::default()
            },
        )
        .expect("the tiny test model loads (ONNX Runtime from the project's .venv)");
        let meta = policy.meta().clone();
        let (to, od) = (meta.obs.horizon, meta.obs.dim);
        let (tp, da) = (meta.action.pred_horizon, meta.action.dim);
        let good = ChunkRequestMsg {
            robot: "r".into(),
            noise_seed: 3,
            stamp: 1.0,
            observations: vec![0.1; to * od],
            committed_start: 0.2,
            committed: vec![0.05; tp * da],
            delay_periods: 1,
            chunking: "rtc".into(),
        };
        let ok = answer(&mut policy, &good);
        assert!(ok.error.is_empty(), "{}", ok.error);
        assert_eq!(ok.actions.len(), tp * da);
        assert_eq!(ok.start, 1.0);
        let cases: Vec<(ChunkRequestMsg, &str)> = vec![
            (
                ChunkRequestMsg {
                    observations: vec![0.1; (to + 1) * od],
                    ..good.clone()
                },
                "observations",
            ),
            (
                ChunkRequestMsg {
                    observations: vec![0.1; od + 3],
                    ..good.clone()
                },
                "observations",
            ),
            (
                ChunkRequestMsg {
                    observations: vec![f64::NAN; to * od],
                    ..good.clone()
                },
                "finite",
            ),
            (
                ChunkRequestMsg {
                    committed: vec![0.0; 7],
                    ..good.clone()
                },
                "committed",
            ),
            (
                ChunkRequestMsg {
                    chunking: "smooth".into(),
                    ..good.clone()
                },
                "naive, ensemble or rtc",
            ),
            (
                ChunkRequestMsg {
                    delay_periods: u32::MAX,
                    ..good.clone()
                },
                "delay",
            ),
            (
                ChunkRequestMsg {
                    stamp: f64::INFINITY,
                    ..good.clone()
                },
                "finite",
            ),
        ];
        for (req, want) in cases {
            let a = answer(&mut policy, &req);
            assert!(a.actions.is_empty(), "{req:?}");
            assert!(a.error.contains(want), "{want}: {}", a.error);
        }
        // A committed chunk from far in the past or the future is no overlap, not an error.
        for start in [-1e300, 1e300] {
            let a = answer(
                &mut policy,
                &ChunkRequestMsg {
                    committed_start: start,
                    ..good.clone()
                },
            );
            assert!(a.error.is_empty(), "{}", a.error);
        }
    }

    /// The `.srv` file ROS 2 tools build from and the layouts embody encodes are the same
    /// fields in the same order.
    #[test]
    fn the_srv_file_matches_the_encoded_layouts() {
        let srv = include_str!("../interfaces/embody_msgs/srv/ComputeChunk.srv");
        let fields = |part: &str| -> String {
            part.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(|l| format!("{l}\n"))
                .collect()
        };
        let (request, response) = srv.split_once("\n---\n").expect("a request and a response");
        assert_eq!(fields(request), ChunkRequestMsg::definition());
        assert_eq!(fields(response), ChunkReplyMsg::definition());
    }
}
