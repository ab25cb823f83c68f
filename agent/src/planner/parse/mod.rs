//! Reads a request into clauses: what to do (a verb, or none), which objects (references with
//! colours, classes, positions, exceptions), where they go, and the order words around them.
//!
//! Nothing is skipped that is not in the grammar: a word the parser cannot place refuses the
//! request, naming the word. Grounding against the scene happens later (`refs.rs`).

mod clause;
mod noun;

use super::grammar::{Grammar, VerbKind};

/// How many objects a reference asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantity {
    /// "the red cube": exactly one must match.
    Definite,
    /// "a cube": any one.
    Any,
    /// "the cubes", "all cubes", "everything".
    All,
    /// "both cans".
    Both,
    /// "two cubes".
    Count(usize),
}

/// How candidates are ranked when a reference asks for the extreme one.
#[derive(Clone, Debug, PartialEq)]
pub enum Rank {
    /// left, right, near, far (from the robot), big, small, tall, short.
    Key(String),
    /// Nearest to (or, with `far`, farthest from) another object or a container.
    From { anchor: Box<Item>, far: bool },
}

/// One object reference: "the second red cube from the left", "anything yellow", "the rest".
#[derive(Clone, Debug, PartialEq)]
pub struct Ref {
    pub quantity: Quantity,
    pub colors: Vec<String>,
    /// Classes the noun may mean; `None` = any.
    pub classes: Option<Vec<String>>,
    pub not_colors: Vec<String>,
    pub not_classes: Vec<String>,
    pub rank: Option<Rank>,
    /// (k, counted from the right); -1 = last.
    pub ordinal: Option<(i64, bool)>,
    /// A relation to an anchor ("next to the cup").
    pub relation: Option<(String, Box<Item>)>,
    /// "the rest", "the other boxes": objects not named elsewhere in the request.
    pub other: bool,
    /// "the nearer one": the head noun is "one" with no class or colour; it picks among the
    /// objects just named.
    pub bare_one: bool,
    /// The words, for messages.
    pub text: String,
}

/// A container named in a request.
#[derive(Clone, Debug, PartialEq)]
pub struct ContainerRef {
    pub classes: Vec<String>,
    pub ordinal: Option<i64>,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Ref(Ref),
    /// "it", "them", "those": what was just named.
    Pronoun,
    /// The table itself: everything on it as a clearing target; never moved.
    Table,
    /// A container as an object ("move the bin"): never moved.
    Container(ContainerRef),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Dest {
    Container(ContainerRef),
    /// A destination that can never be used, with the reason.
    Refused(String),
}

/// What a clause asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// A verb with these possible kinds (decided once the clause is read).
    Verb(VerbKind),
    /// "take"/"get": a put with a destination, a pick without.
    PutOrPick,
    /// Objects named with no verb ("first the can, then ..."): the verb comes from the request.
    Bare,
    /// Only a destination ("... and into the bin").
    DestOnly,
    /// "start with the can": these objects go first.
    StartWith,
    /// Nothing to do ("the table is a mess", "thanks").
    Nothing,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Clause {
    pub action: Action,
    pub objects: Vec<Item>,
    pub except: Vec<Item>,
    pub dest: Option<Dest>,
    /// "off the table": the objects leave the table (so they go to the container).
    pub from_table: bool,
    /// "away" after a put verb ("put the cups away").
    pub away: bool,
    pub first: bool,
    pub last: bool,
    pub as_said: bool,
    pub only: bool,
    pub text: String,
}

impl Clause {
    pub(super) fn new(action: Action) -> Self {
        Self {
            action,
            objects: Vec::new(),
            except: Vec::new(),
            dest: None,
            from_table: false,
            away: false,
            first: false,
            last: false,
            as_said: false,
            only: false,
            text: String::new(),
        }
    }
}

/// Why a request could not be read.
#[derive(Clone, Debug, PartialEq)]
pub enum ParseError {
    /// A word the grammar does not know where it stands.
    Unknown { word: String, clause: String },
    /// A word known as something else, used where it makes no sense.
    Misplaced { word: String, clause: String },
}

/// Parses every sentence of a request into clauses.
pub fn parse(g: &Grammar, sentences: &[Vec<String>]) -> Result<Vec<Clause>, ParseError> {
    let mut out = Vec::new();
    for words in sentences {
        let mut p = Parser { g, w: words, i: 0 };
        p.sentence(&mut out)?;
    }
    Ok(out)
}

const CONNECTORS: &[&str] = &[
    ",",
    "and",
    "then",
    "but",
    "so",
    "after",
    "that",
    "afterwards",
    "next",
    "finally",
    "lastly",
    "plus",
    "also",
    "once",
    "done",
    "when",
];

struct Parser<'a> {
    g: &'a Grammar,
    w: &'a [String],
    i: usize,
}

impl<'a> Parser<'a> {
    pub(super) fn peek(&self) -> Option<&'a str> {
        self.w.get(self.i).map(String::as_str)
    }

    pub(super) fn peek_at(&self, k: usize) -> Option<&'a str> {
        self.w.get(self.i + k).map(String::as_str)
    }

    pub(super) fn eat(&mut self, word: &str) -> bool {
        if self.peek() == Some(word) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    pub(super) fn eat_seq(&mut self, words: &[&str]) -> bool {
        let ok = words
            .iter()
            .enumerate()
            .all(|(k, w)| self.peek_at(k) == Some(*w));
        if ok {
            self.i += words.len();
        }
        ok
    }

    pub(super) fn eat_phrase(&mut self, p: &super::grammar::Phrases) -> bool {
        match p.at(self.w, self.i) {
            Some(n) => {
                self.i += n;
                true
            }
            None => false,
        }
    }

    pub(super) fn at_end(&self) -> bool {
        self.i >= self.w.len()
    }

    pub(super) fn at_connector(&self) -> bool {
        self.peek().is_some_and(|w| CONNECTORS.contains(&w))
    }

    pub(super) fn text(&self, from: usize) -> String {
        self.w[from..self.i.min(self.w.len())].join(" ")
    }

    pub(super) fn unknown(&self, from: usize) -> ParseError {
        let word = self.peek().unwrap_or_default().to_string();
        let clause = self.w[from..].join(" ");
        let known = self.g.verb(&word).is_some()
            || self.g.lexicon.color(&word).is_some()
            || self.g.lexicon.class_at(self.w, self.i).is_some()
            || self.g.lexicon.containers.get(&word).is_some()
            || self.g.fillers.contains_word(&word);
        if known {
            ParseError::Misplaced { word, clause }
        } else {
            ParseError::Unknown { word, clause }
        }
    }
}
