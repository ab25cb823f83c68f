//! Loads the planner's grammar (`grammar.toml`) and compiles its sentence patterns.

use std::collections::BTreeMap;

use regex::Regex;
use serde::Deserialize;

/// The grammar shipped with embody.
pub const BUILTIN: &str = include_str!("grammar.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GrammarFile {
    refusals: Vec<Refusal>,
    sequence: Sequence,
    intents: Vec<IntentFile>,
    lexicon: Lexicon,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refusal {
    pub phrases: Vec<String>,
    pub reason: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sequence {
    pub separators: Vec<String>,
    pub leading: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IntentFile {
    name: String,
    patterns: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lexicon {
    pub colors: Vec<String>,
    pub definite: Vec<String>,
    pub indefinite: Vec<String>,
    pub universal: Vec<String>,
    pub numbers: BTreeMap<String, usize>,
    pub ordinals: BTreeMap<String, i64>,
    pub superlatives: BTreeMap<String, String>,
    pub relations: Vec<[String; 2]>,
    pub classes: BTreeMap<String, Vec<String>>,
    pub plurals: Vec<String>,
    pub containers: BTreeMap<String, Vec<String>>,
}

/// What an instruction step asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intent {
    /// Everything on the table (minus exceptions) into a container.
    Clear,
    /// The referenced objects into a container.
    Put,
    /// Pick the referenced object and hold it.
    Pick,
}

pub struct Pattern {
    pub intent: Intent,
    pub regex: Regex,
}

pub struct Grammar {
    pub refusals: Vec<Refusal>,
    pub sequence: Sequence,
    pub patterns: Vec<Pattern>,
    pub lexicon: Lexicon,
}

/// A planner grammar that cannot be used, with the part at fault.
#[derive(Debug, thiserror::Error)]
pub enum GrammarError {
    #[error("planner grammar: {0}")]
    Toml(String),
    #[error("planner grammar: unknown intent '{0}'")]
    UnknownIntent(String),
    #[error("planner grammar: pattern {pattern:?}: {message}")]
    Pattern { pattern: String, message: String },
}

impl Grammar {
    /// Parses and compiles a grammar; errors name the pattern at fault.
    pub fn parse(text: &str) -> Result<Self, GrammarError> {
        let g: GrammarFile = toml::from_str(text).map_err(|e| GrammarError::Toml(e.to_string()))?;
        // A container slot only matches container words, so "next to the can in the bin" cannot
        // be read as a container "the can in the bin".
        let mut container_words: Vec<&String> = g.lexicon.containers.keys().collect();
        container_words.sort_by_key(|w| std::cmp::Reverse(w.len()));
        let colors = g.lexicon.colors.join("|");
        let container_slot = format!(
            "(?P<container>(?:(?:the|a|an|that|this) )?(?:(?:{colors}) )?(?:{}))",
            container_words
                .iter()
                .map(|w| regex::escape(w))
                .collect::<Vec<_>>()
                .join("|")
        );
        let mut patterns = Vec::new();
        for i in &g.intents {
            let intent = match i.name.as_str() {
                "clear" => Intent::Clear,
                "put" => Intent::Put,
                "pick" => Intent::Pick,
                other => return Err(GrammarError::UnknownIntent(other.to_string())),
            };
            for p in &i.patterns {
                let re = p
                    .replace("{objects}", "(?P<objects>.+?)")
                    .replace("{except}", "(?P<except>.+?)")
                    .replace("{container}", &container_slot);
                let regex = Regex::new(&re).map_err(|e| GrammarError::Pattern {
                    pattern: p.to_string(),
                    message: e.to_string(),
                })?;
                patterns.push(Pattern { intent, regex });
            }
        }
        Ok(Self {
            refusals: g.refusals,
            sequence: g.sequence,
            patterns,
            lexicon: g.lexicon,
        })
    }

    pub fn builtin() -> Self {
        Self::parse(BUILTIN).expect("the built-in grammar is valid (checked by a unit test)")
    }

    /// The reason to refuse a normalized instruction outright, if one of the refusal phrases
    /// occurs in it.
    pub fn refusal(&self, normalized: &str) -> Option<&str> {
        self.refusals
            .iter()
            .find(|r| r.phrases.iter().any(|p| contains_phrase(normalized, p)))
            .map(|r| r.reason.as_str())
    }
}

/// Lower case, punctuation other than commas dropped, single spaces.
pub fn normalize(text: &str) -> String {
    let cleaned: String = text
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == ',' || c == ' ' || c == '\'' || c == '-' {
                c
            } else {
                ' '
            }
        })
        .collect();
    let spaced = cleaned.replace(',', " , ");
    let words: Vec<&str> = spaced.split_whitespace().collect();
    words
        .join(" ")
        .replace(" , ", ", ")
        .trim_end_matches(',')
        .trim()
        .to_string()
}

/// Whether `phrase` occurs in `text` as whole words.
fn contains_phrase(text: &str, phrase: &str) -> bool {
    let t = format!(" {} ", text.replace(',', " "));
    t.contains(&format!(" {phrase} "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_grammar_compiles() {
        let g = Grammar::parse(BUILTIN).unwrap();
        assert!(g.patterns.len() >= 10);
    }

    #[test]
    fn normalizes() {
        assert_eq!(
            normalize("  Put the RED cube, please!  "),
            "put the red cube, please"
        );
        assert!(contains_phrase("throw the cup", "throw"));
        assert!(!contains_phrase("thrower", "throw"));
    }
}
