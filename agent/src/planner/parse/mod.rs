//! Reads a request into clauses: what to do (a verb, or none), which objects (references with
//! colours, classes, positions, exceptions), where they go, and the order words around them.
//!
//! Nothing is skipped that is not in the grammar: a word the parser cannot place refuses the
//! request, naming the word. Grounding against the scene happens later (`refs.rs`).

mod clause;
mod noun;
mod sentences;

pub use sentences::parse;

use super::grammar::{Grammar, VerbKind};
use super::refusal::Refusal;

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
    /// A bare "one" given the kind of the group named before it ("the two red cubes ... the
    /// left one"): it still picks among that group, so it can order it.
    pub one_of_group: bool,
    /// Words said of the objects that the scene does not record ("the plastic cup"): they
    /// narrow nothing, and the planner says so.
    pub unchecked: Vec<String>,
    /// All the noun's classes, not only its usual one: "all the blocks except the purple box"
    /// counts boxes as blocks.
    pub every_class: bool,
    /// The side was said as a place, "on the left (side)", not as an extreme ("furthest to the
    /// left", "on the far left"): with no count it is a region of the table.
    pub side_region: bool,
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
    Refused(Refusal),
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
    /// Said after a correction ("actually no, wait, leave the red one"): what it keeps is
    /// taken back from what was asked before, not a contradiction of it.
    pub corrects: bool,
    /// A presence condition ("if the golden mug is still on the table, ...", "is the mug
    /// there? if so, ..."): its objects must be there and are what the next clause's "it"
    /// means; it is no act of its own.
    pub condition: bool,
    /// The condition said negatively: "if the cup isn't there", "if there is no purple box".
    pub negated: bool,
    /// "..., hold it", "keep it in your hand": only what "it" means held; nothing of its own
    /// after a pick, which it just continues.
    pub hold_tail: bool,
    /// "put the orange cube in instead", "in there": into the container named before.
    pub same_place: bool,
    /// A remark about objects ("the mug is chipped", "the white can's leaking a bit"): it
    /// names what a later "it" means, and is no act of its own.
    pub remark: bool,
    /// "working from left to right": the objects in order across the table, the side or
    /// distance named first leading (a superlative key: "left", "right", "near", "far").
    pub sweep: Option<String>,
    /// "Bin the red thing. Scratch that, bin everything that isn't red.": said after a
    /// correction that takes back what was asked before ("scratch that", "no", "I meant"),
    /// with a verb of its own and nothing that adds ("too", "also"): it replaces the acts
    /// before it.
    pub cancels: bool,
    /// "avoid the cup", "don't touch the cup": what it leaves, the hand also keeps away from
    /// (a keep-away constraint in the plan).
    pub avoid: bool,
    /// "..., otherwise bin the green can", "if not, just the green can": said for when the
    /// presence condition before it does not hold.
    pub otherwise: bool,
    /// Which sentence of the request the clause is in (from 0): a condition's "then" reaches
    /// to the end of the sentence that acts on it.
    pub sentence: usize,
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
            corrects: false,
            condition: false,
            negated: false,
            hold_tail: false,
            same_place: false,
            remark: false,
            sweep: None,
            cancels: false,
            avoid: false,
            otherwise: false,
            sentence: 0,
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

/// A request read: its clauses, and the talk skipped because it asks for nothing.
#[derive(Debug, Default)]
pub struct Parsed {
    pub clauses: Vec<Clause>,
    pub skipped: Vec<String>,
    /// Where in `clauses` the sentence being read said "otherwise" ("if not", "else"): the
    /// clauses from there to the sentence's end are the condition's other branch.
    otherwise_from: Option<usize>,
}

impl Ref {
    /// Whether "it" is what this reference is placed against: "the thing right next to it",
    /// "the can nearest to it".
    pub fn anchored_on_pronoun(&self) -> bool {
        self.relation
            .as_ref()
            .is_some_and(|(_, anchor)| **anchor == Item::Pronoun)
            || matches!(&self.rank, Some(Rank::From { anchor, .. }) if **anchor == Item::Pronoun)
    }

    /// Reads the "it" this reference is placed against as `item`.
    pub fn anchor_pronoun_on(&mut self, item: &Item) {
        if let Some((_, anchor)) = &mut self.relation {
            if **anchor == Item::Pronoun {
                **anchor = item.clone();
            }
        }
        if let Some(Rank::From { anchor, .. }) = &mut self.rank {
            if **anchor == Item::Pronoun {
                **anchor = item.clone();
            }
        }
    }

    /// Whether the reference names a kind of object: a class, a colour, or a bare "one" (which
    /// takes the kind named before it); "the thing", "whatever is left" name none.
    pub fn names_kind(&self) -> bool {
        self.classes.is_some() || !self.colors.is_empty() || self.bare_one
    }

    /// A bare "one" ("the one on the right", "the other one") made one of the kind `of`
    /// names (its classes, and its colours unless it has its own); anything else is left.
    pub fn take_kind_of(&mut self, classes: &Option<Vec<String>>, colors: &[String]) {
        if !self.bare_one {
            return;
        }
        self.bare_one = false;
        self.one_of_group = true;
        self.classes = classes.clone();
        if self.colors.is_empty() {
            self.colors = colors.to_vec();
        }
    }
}

const CONNECTORS: &[&str] = &[
    ",",
    // Subordinate clauses start talk to skip ("keep holding it while I wipe underneath").
    "while",
    "because",
    "since",
    "until",
    "and",
    "then",
    "but",
    "so",
    "after",
    // "bin the cup before the can": the cup, then the can (`Parser::sentence_clauses`).
    "before",
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
    // "if there's a pink cup put it in the bin otherwise ...": the other branch of a
    // condition starts a clause (`Parser::otherwise`).
    "otherwise",
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

    /// "is", "are", "sits", "is lying", "stands": what joins an object to what is said of it.
    pub(super) fn eat_copula(&mut self) -> bool {
        if matches!(self.peek(), Some("is" | "are" | "was" | "were")) {
            self.i += 1;
            let _ = self.eat("currently") || self.eat("still") || self.eat("now");
            let _ = self.eat("sitting")
                || self.eat("lying")
                || self.eat("standing")
                || self.eat("resting")
                || self.eat("located")
                || self.eat("placed");
            return true;
        }
        let _ = self.eat("currently") || self.eat("still");
        let moved = matches!(
            self.peek(),
            Some("sits" | "sit" | "lies" | "lie" | "stands" | "stand" | "rests" | "rest")
        );
        if moved {
            self.i += 1;
        }
        moved
    }

    /// Whether a copula starts at `at` (what `eat_copula` would take there).
    pub(super) fn copula_at(&self, at: usize) -> bool {
        Parser {
            g: self.g,
            w: self.w,
            i: at,
        }
        .eat_copula()
    }

    /// The table as a whole: "the table", "the whole desk", "the entire kitchen table top".
    pub(super) fn eat_table(&mut self) -> bool {
        let save = self.i;
        let _ = self.eat("whole") || self.eat("entire") || self.eat("complete") || self.eat("full");
        if self.eat_phrase(&self.g.lexicon.table) {
            let _ = self.eat("top") || self.eat("surface");
            return true;
        }
        self.i = save;
        false
    }

    /// "on the table", "on the kitchen counter", "sitting on the desk": where every object is
    /// anyway, said of an object.
    pub(super) fn on_the_table(&mut self) -> bool {
        let save = self.i;
        let _ = self.eat("sitting") || self.eat("lying") || self.eat("standing");
        if self.eat_seq(&["on", "top", "of"]) || self.eat("on") || self.eat("upon") {
            let _ = self.eat("the") || self.eat("this") || self.eat("that") || self.eat("your");
            if self.eat_table() {
                return true;
            }
        }
        self.i = save;
        false
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

    /// Whether `w[from..to]` is talk that asks for nothing ("my son needs that for school",
    /// "I'll deal with it later"): it starts as talk does (grammar.toml `talk_openers`, or "the
    /// kids ...") and names no object, colour or container, and uses none of the planner's
    /// verbs. Only such talk may be skipped; anything else unreadable is refused.
    pub(super) fn is_talk(&self, from: usize, to: usize) -> bool {
        let g = self.g;
        let lex = &g.lexicon;
        let Some(first) = self.w.get(from) else {
            return false;
        };
        // "the kids ...", and "the printer jammed", "the coffee machine is broken": a thing
        // the planner does not know as the subject.
        // "Kids left a mess again.", "Guests are coming in ten minutes.": people, with no
        // article, as the subject.
        let bare_people = g.safety.people_words.contains(first)
            && !matches!(
                first.as_str(),
                "me" | "us" | "him" | "her" | "i" | "we" | "you" | "someone" | "somebody"
            )
            && self.w.get(from + 1).is_some_and(|w| w != ",");
        let person_subject = bare_people
            || (lex.definite.contains_word(first)
                && self.w.get(from + 1).is_some_and(|w| {
                    g.safety.people_words.contains(w)
                        || (!g.knows(w)
                            && !lex.unchecked.iter().any(|u| u == w)
                            && w.chars().all(char::is_alphabetic))
                        || (lex.unchecked.iter().any(|u| u == w)
                            && self.w.get(from + 2).is_some_and(|n| !g.knows(n)))
                }));
        // Without an opener, only a remark that ends the sentence after a comma, binds nothing,
        // and cannot be an order: one that opens with a participle ("bin the purple box,
        // running late") or tells a clock time ("..., guests at 7"). A bare word first
        // ("..., wipe surfaces") may be an order the planner does not know, and is refused.
        let clock = (from..to.min(self.w.len())).any(|k| self.clock_time(k));
        let participle = first.len() > 4 && first.ends_with("ing");
        // "..., rough morning", "..., long week": how the day has been.
        let day = self.w[from..to.min(self.w.len())].last().is_some_and(|l| {
            matches!(
                l.as_str(),
                "morning"
                    | "day"
                    | "week"
                    | "night"
                    | "evening"
                    | "afternoon"
                    | "weekend"
                    | "month"
                    | "year"
                    | "shift"
            )
        });
        let tail = to >= self.w.len()
            && from > 0
            && self.w[from - 1] == ","
            && (participle || clock || day)
            && self.binds_nothing(from, to);
        // "class starts in five minutes", "dinner is at 7": a thing the planner does not know,
        // then what it does or is, said as the request's reason.
        // (Only with a verb of time: "wipe surfaces" may be an order the planner lacks.)
        let thing_subject = from == 0
            && !g.knows(first)
            && first.chars().all(char::is_alphabetic)
            && self.w.get(from + 1).is_some_and(|w| {
                matches!(
                    w.as_str(),
                    "is" | "are"
                        | "was"
                        | "were"
                        | "starts"
                        | "begins"
                        | "ends"
                        | "finishes"
                        | "opens"
                        | "closes"
                        | "arrives"
                        | "arrive"
                        | "start"
                        | "begin"
                )
            })
            && self.binds_nothing(from, to);
        if !(g.talk_openers.contains(first) || person_subject || tail || thing_subject) {
            return false;
        }
        // "no wait, ... on the right": a correction that picks something out is never talk
        // to skip ("sorry to trouble you" is).
        let picks_out = |k: usize| {
            let lex = &g.lexicon;
            lex.sides.at(self.w, k).is_some()
                || lex.relations.at(self.w, k).is_some()
                || lex.superlatives.contains_key(self.w[k].as_str())
                || lex.ordinals.contains_key(self.w[k].as_str())
        };
        let end = to.min(self.w.len());
        if (from..end).any(|k| g.corrections.at(self.w, k).is_some()) && (from..end).any(picks_out)
        {
            return false;
        }
        // "... and whatever's right next to it": a free relative that picks something out is an
        // object, not talk ("whatever, just clear it" is talk).
        if matches!(first.as_str(), "whatever" | "whichever") && (from..end).any(picks_out) {
            return false;
        }
        // "I am tidying up before guests arrive", "we have been moving": the speaker telling.
        // So is "my kid is using it": someone else, named, doing something of their own.
        let be_at = |k: usize| {
            self.w.get(k).is_some_and(|w| {
                matches!(
                    w.as_str(),
                    "am" | "are" | "is" | "was" | "were" | "have" | "had"
                )
            })
        };
        let someone = matches!(
            first.as_str(),
            "my" | "our" | "his" | "her" | "their" | "the"
        ) && self
            .w
            .get(from + 1)
            .is_some_and(|w| g.safety.people_words.contains(w));
        // "before the kids get home", "until she leaves": a time clause of someone else's
        // doing; its verbs are theirs (an object named in it still keeps it from being talk).
        // Not "wait until I leave": an order to wait, which the arm cannot keep.
        let waits = from > 1
            && matches!(
                self.w[from - 2].as_str(),
                "wait" | "pause" | "stop" | "hold" | "not" | "only" | "just"
            );
        let time_clause = from > 0
            && matches!(
                self.w[from - 1].as_str(),
                "before" | "until" | "while" | "when" | "once"
            )
            && !waits
            && (someone || matches!(first.as_str(), "he" | "she" | "they"));
        let narration = (matches!(first.as_str(), "i" | "we" | "he" | "she" | "they")
            && be_at(from + 1))
            || (someone && be_at(from + 2))
            || time_clause;
        self.asks_nothing(from, to, narration)
    }

    /// Whether `w[from..to]` names no object, colour or container and uses none of the
    /// grammar's verbs (with `narration`, the speaker's own verbs are allowed: "I am tidying
    /// up", "the table needs to be clear for a projector").
    pub(super) fn asks_nothing(&self, from: usize, to: usize, narration: bool) -> bool {
        let g = self.g;
        let lex = &g.lexicon;
        (from..to.min(self.w.len())).all(|k| {
            let w = &self.w[k];
            // "so I can take a look": the modal, not a can.
            let modal = w == "can"
                && k > 0
                && matches!(
                    self.w[k - 1].as_str(),
                    "i" | "you" | "we" | "they" | "he" | "she" | "it"
                );
            let noun = if modal { None } else { lex.class_at(self.w, k) };
            let names_object = lex.color(w).is_some()
                || lex.color_before_noun.contains_key(w)
                || noun
                    .as_ref()
                    .is_some_and(|(c, _, _)| !c.iter().any(|c| c == "*"))
                || lex.containers.at(self.w, k).is_some();
            // "a mess", "stuff": nouns, even where a verb is spelled the same.
            if noun.is_some() {
                return !names_object;
            }
            // Narration in the past ("the kids left a mess") asks for nothing.
            let past = w.ends_with("ed")
                || matches!(
                    w.as_str(),
                    "left" | "took" | "got" | "kept" | "brought" | "held" | "made" | "gave"
                );
            // "putting up with it" is bearing it, not putting anything; "so I can take a
            // closer look" is looking.
            // "I'll just go home and sleep", "the shift", "a move": the speaker's going, or
            // a noun after a determiner.
            let after_det = k > from
                && (lex.definite.contains_word(&self.w[k - 1])
                    || lex.indefinite.contains(&self.w[k - 1]));
            let idiom = (self.w.get(k + 1).is_some_and(|n| n == "up")
                && self.w.get(k + 2).is_some_and(|n| n == "with"))
                || after_det
                || (matches!(w.as_str(), "go" | "going")
                    && (self
                        .w
                        .get(k + 1)
                        .is_some_and(|n| matches!(n.as_str(), "home" | "out" | "back"))
                        || self.w.get(k + 1).is_some_and(|n| n == "to")
                            && self.w.get(k + 2).is_some_and(|n| {
                                matches!(n.as_str(), "bed" | "sleep" | "work" | "lunch")
                            })))
                || (matches!(w.as_str(), "take" | "have" | "get")
                    && self.w.get(k + 1).is_some_and(|n| n == "a")
                    && self.w[k + 2..self.w.len().min(k + 4)]
                        .iter()
                        .any(|n| matches!(n.as_str(), "look" | "peek" | "glance")));
            // "if this desk isn't clean": after a copula or "not", a state, not an order.
            let state = k > from
                && matches!(
                    self.w[k - 1].as_str(),
                    "is" | "are" | "was" | "were" | "not"
                );
            let asks = !past && !idiom && !narration && !state && g.verb(w).is_some()
                || !narration && g.verbs.done_words.at(self.w, k).is_some()
                || !past
                    && !idiom
                    && super::text::base_forms(w).iter().any(|b| {
                        // "the last thing I want": wanting is talk; "I want it gone" has "gone".
                        // "I'm moving out tomorrow": the speaker's own going; "I'll deal
                        // with the rest myself": a noun.
                        let noun = k > from && lex.definite.contains_word(&self.w[k - 1]);
                        (!narration
                            && g.verbs.negatable.contains(b)
                            && !g.verbs.need_words.contains(b))
                            || (!narration && !noun && g.verbs.go_verbs.contains(b))
                            || (!noun && g.verbs.stay_verbs.contains(b))
                    });
            !names_object && !asks
        })
    }

    /// Whether `w[from..to]` has nothing that could change what the arm does if it were
    /// understood: no binding word (grammar.toml `binding_words`: time, waiting, manner, care,
    /// negation), no position, side, relation, place, number, order word, reference or
    /// quantity. A digit is allowed only as a clock time after "at" ("guests at 7").
    pub(super) fn binds_nothing(&self, from: usize, to: usize) -> bool {
        let g = self.g;
        let lex = &g.lexicon;
        let w = self.w;
        (from..to.min(w.len())).all(|k| {
            let word = w[k].as_str();
            let clock = self.clock_time(k);
            let binds = g.binding_words.iter().any(|b| b == word)
                || (word.chars().any(|c| c.is_ascii_digit()) && !clock)
                || self.picks_or_orders(k)
                || lex.mass.iter().any(|m| m == word)
                || lex.sides.at(w, k).is_some()
                || lex.relations.at(w, k).is_some()
                || lex.places.at(w, k).is_some()
                || lex.table.at(w, k).is_some()
                || lex.pronouns.at(w, k).is_some()
                || lex.universal.at(w, k).is_some()
                || lex.both.at(w, k).is_some();
            !binds
        })
    }

    /// Whether `w[k]` picks objects out or orders them: a number, ordinal or superlative,
    /// "other", "everything", "the rest", an order word, or a correction.
    pub(super) fn picks_or_orders(&self, k: usize) -> bool {
        let (g, lex, w) = (self.g, &self.g.lexicon, self.w);
        let word = w[k].as_str();
        (lex.numbers.contains_key(word) && !self.clock_time(k))
            || lex.ordinals.contains_key(word)
            || lex.superlatives.contains_key(word)
            || lex.other_words.iter().any(|o| o == word)
            || lex.everything.at(w, k).is_some()
            || lex.rest.at(w, k).is_some()
            || g.first.at(w, k).is_some()
            || g.last.at(w, k).is_some()
            || g.as_said.at(w, k).is_some()
            || g.start_with.at(w, k).is_some()
            || g.corrections.at(w, k).is_some()
    }

    /// Whether `w[k]` is a clock time: digits right after "at" ("guests at 7"), or a count of
    /// minutes or hours ("in five minutes", "for 2 hours").
    fn clock_time(&self, k: usize) -> bool {
        let at_digits =
            k > 0 && self.w[k - 1] == "at" && self.w[k].chars().all(|c| c.is_ascii_digit());
        let count = self.w[k].chars().all(|c| c.is_ascii_digit())
            || self.g.lexicon.numbers.contains_key(self.w[k].as_str());
        // ("one minute!" alone is "wait", which binds.)
        let span = count
            && k > 0
            && matches!(
                self.w[k - 1].as_str(),
                "in" | "for" | "within" | "another" | "about" | "over"
            )
            && self.w.get(k + 1).is_some_and(|u| {
                matches!(
                    u.as_str(),
                    "minute" | "minutes" | "min" | "mins" | "hour" | "hours" | "seconds" | "secs"
                )
            });
        at_digits || span
    }

    /// "It has been a long week", ", it is in the way": "it" with a form of "be" and nothing
    /// after that names or asks for anything: the weather's "it", or a reason given about an
    /// object already named. The cursor after the piece when it is one.
    pub(super) fn dummy_it(&mut self, from: usize) -> bool {
        let w = self.w;
        if w.get(from).map(String::as_str) != Some("it") {
            return false;
        }
        let be = match (
            w.get(from + 1).map(String::as_str),
            w.get(from + 2).map(String::as_str),
        ) {
            (Some("is" | "was"), _) => 2,
            (Some("has" | "had"), Some("been" | "got")) => 3,
            _ => return false,
        };
        let end = self.next_comma(from);
        let rest = from + be;
        // "it's for recycling": what the object is for, a reason.
        let purpose = end == rest + 2
            && w[rest] == "for"
            && w[rest + 1].len() > 4
            && w[rest + 1].ends_with("ing");
        if purpose {
            self.i = end;
            return true;
        }
        if rest >= end || !self.asks_nothing(rest, end, false) || !self.binds_nothing(rest, end) {
            return false;
        }
        self.i = end;
        true
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
