//! A planner backed by any OpenAI-compatible chat-completions endpoint (vLLM, Ollama,
//! llama.cpp server, hosted APIs). It sends the instruction, the scene listing and the camera
//! image, asks for a plan in a JSON schema, and treats the answer as untrusted data: only the
//! closed set of skills parses, every object and container must exist, and the plan is
//! validated like any other. An invalid answer is sent back with the error, a bounded number
//! of times; then the planner fails cleanly.

use std::time::Duration;

use serde_json::json;

use super::answer::{read_answer, Answer};
use super::grammar::Grammar;
use super::screen::screen;
use super::text::sentences;
use super::{Instruction, PlanError, Planner, Refusal, RefusalKind};
use crate::types::{CameraFrame, Plan, SceneGraph};

#[derive(Clone)]
pub struct VlmConfig {
    /// Base URL, e.g. `http://localhost:11434/v1`; `/chat/completions` is appended.
    pub url: String,
    pub model: String,
    /// The API key, sent as a bearer token; never logged or printed. The caller reads it (the
    /// CLI from the variable `--planner-api-key-env` names), so the library reads no
    /// environment.
    pub api_key: Option<String>,
    /// Limit on every request, connection to last byte.
    pub timeout: Duration,
    /// Re-asks after an invalid answer.
    pub max_retries: usize,
}

impl std::fmt::Debug for VlmConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VlmConfig")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .finish()
    }
}

impl Default for VlmConfig {
    fn default() -> Self {
        Self {
            url: "http://localhost:11434/v1".into(),
            model: "qwen2.5-vl".into(),
            api_key: None,
            timeout: Duration::from_secs(60),
            max_retries: 2,
        }
    }
}

pub struct VlmPlanner {
    cfg: VlmConfig,
    agent: ureq::Agent,
    /// The embedded grammar's refusals apply first: a remote model cannot talk the robot into
    /// what embody refuses.
    grammar: Grammar,
}

/// The JSON schema the model is asked to answer in (`answer::read_answer` checks it).
fn answer_schema() -> serde_json::Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "steps": {"type": "array", "items": {"type": "object", "additionalProperties": false,
                "properties": {
                    "skill": {"type": "string", "enum": ["pick", "place"]},
                    "object": {"type": "string"},
                    "into": {"type": "string"}},
                "required": ["skill", "object"]}},
            "constraints": {"type": "array", "items": {"type": "object", "additionalProperties": false,
                "properties": {
                    "kind": {"type": "string", "enum": ["keep_away"]},
                    "object": {"type": "string"},
                    "margin_m": {"type": "number", "minimum": 0.0, "maximum": crate::types::KEEP_AWAY_MARGIN_MAX_M}},
                "required": ["kind", "object"]}},
            "refuse": {"type": ["string", "null"]}
        },
        "required": ["steps"]
    })
}

const SYSTEM: &str = "You plan for a robot arm over a table. Answer only with JSON matching the \
schema: {\"steps\": [{\"skill\": \"pick\", \"object\": ID}, {\"skill\": \"place\", \"object\": ID, \
\"into\": CONTAINER_ID}, ...]} using only the ids listed in the scene, each object picked then \
placed before the next is picked. When the request says to keep away from an object or not to \
touch it, add \"constraints\": [{\"kind\": \"keep_away\", \"object\": ID}] (that object is not \
moved). Or {\"steps\": [], \"refuse\": REASON} if the request is unsafe, impossible or out of \
scope.";

impl VlmPlanner {
    pub fn new(cfg: VlmConfig) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(cfg.timeout))
            .http_status_as_error(false)
            .build()
            .into();
        Self {
            cfg,
            agent,
            grammar: Grammar::builtin(),
        }
    }

    fn scene_listing(scene: &SceneGraph) -> String {
        let mut s = String::from("Objects on the table (id, class, colour, position x y z in metres; +x away from the robot, +y to its left):\n");
        for o in &scene.objects {
            let p = o.pose_in_base.translation.vector;
            s.push_str(&format!(
                "- {} ({} {}) at {:.3} {:.3} {:.3}\n",
                o.id, o.color, o.class, p.x, p.y, p.z
            ));
        }
        s.push_str("Containers:\n");
        for c in &scene.containers {
            s.push_str(&format!("- {} ({})\n", c.id, c.class));
        }
        s
    }

    /// One chat-completions request; the answer's content. Any error here is the server's or
    /// the network's: [`PlanError::Unavailable`], never a refusal.
    fn ask(&self, messages: &[serde_json::Value]) -> Result<String, PlanError> {
        let body = json!({
            "model": self.cfg.model,
            "messages": messages,
            "temperature": 0,
            "response_format": {"type": "json_schema", "json_schema": {"name": "plan", "strict": true, "schema": answer_schema()}},
        });
        let url = format!("{}/chat/completions", self.cfg.url.trim_end_matches('/'));
        let mut req = self
            .agent
            .post(&url)
            .header("Content-Type", "application/json");
        if let Some(k) = self.cfg.api_key.as_ref().filter(|k| !k.is_empty()) {
            req = req.header("Authorization", &format!("Bearer {k}"));
        }
        let unavailable = PlanError::Unavailable;
        let mut resp = req
            .send_json(&body)
            .map_err(|e| unavailable(format!("planner server {url}: {e}")))?;
        let status = resp.status();
        let text = resp
            .body_mut()
            .read_to_string()
            .map_err(|e| unavailable(format!("planner server {url}: reading the answer: {e}")))?;
        if !status.is_success() {
            let shown: String = text.chars().take(200).collect();
            return Err(unavailable(format!(
                "planner server {url} answered {status}: {shown}"
            )));
        }
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            unavailable(format!(
                "planner server {url}: not a chat-completions answer: {e}"
            ))
        })?;
        v["choices"][0]["message"]["content"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| {
                unavailable(format!(
                    "planner server {url}: the answer has no choices[0].message.content"
                ))
            })
    }
}

/// PNG of a camera frame as a data URL.
fn image_url(frame: &CameraFrame) -> Option<String> {
    use base64::Engine;
    if frame.rgb.len() != (frame.width * frame.height * 3) as usize {
        return None;
    }
    let mut png_bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png_bytes, frame.width, frame.height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().ok()?;
        w.write_image_data(&frame.rgb).ok()?;
    }
    Some(format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png_bytes)
    ))
}

impl Planner for VlmPlanner {
    fn plan(
        &self,
        instruction: &Instruction,
        scene: &SceneGraph,
        image: Option<&CameraFrame>,
    ) -> Result<Plan, PlanError> {
        let refuse = |r: Refusal| PlanError::refused(instruction, r);
        if let Some(reason) = screen(&self.grammar, &sentences(&instruction.text)) {
            return Err(refuse(Refusal::unsafe_(reason)));
        }
        let mut user = vec![
            json!({"type": "text", "text": format!("{}\nInstruction: {}", Self::scene_listing(scene), instruction.text)}),
        ];
        if let Some(url) = image.and_then(image_url) {
            user.push(json!({"type": "image_url", "image_url": {"url": url}}));
        }
        let mut messages = vec![
            json!({"role": "system", "content": SYSTEM}),
            json!({"role": "user", "content": user}),
        ];
        let mut last_error = String::new();
        for attempt in 0..=self.cfg.max_retries {
            let content = self.ask(&messages)?;
            match read_answer(&content, scene) {
                Answer::Plan(plan) => return Ok(plan),
                // The model's own refusal is final: asking again would only shop for a yes.
                Answer::Refused(reason) => {
                    return Err(refuse(Refusal::new(
                        RefusalKind::ByModel,
                        format!("refused by the model: {reason}"),
                    )));
                }
                Answer::Invalid(e) => {
                    tracing::info!(attempt, error = %e, "planner answer rejected");
                    last_error = e.clone();
                    messages.push(json!({"role": "assistant", "content": content}));
                    messages.push(json!({"role": "user", "content": format!("That answer is invalid: {e}. Answer again with JSON only, following the schema and using only the listed ids.")}));
                }
            }
        }
        Err(PlanError::Invalid(format!(
            "no valid plan from the model after {} attempts; last problem: {last_error}",
            self.cfg.max_retries + 1
        )))
    }
}
