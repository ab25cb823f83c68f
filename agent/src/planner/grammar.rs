//! Loads the planner's grammar (`grammar.toml`): the words it knows, grouped by what they do.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::text::base_forms;
use super::wordnet::{self, LexiconError, Meaning};

/// The grammar shipped with embody.
pub const BUILTIN: &str = include_str!("grammar.toml");

/// Words of a phrase ("throw away" -> ["throw", "away"]).
pub type Phrase = Vec<String>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GrammarFile {
    safety: SafetyFile,
    verbs: VerbsFile,
    filler: FillerFile,
    order: OrderFile,
    lexicon: LexiconFile,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SafetyFile {
    injection_words: Vec<String>,
    injection_phrases: Vec<String>,
    injection_reason: String,
    throw_verbs: Vec<String>,
    throw_particles: Vec<String>,
    throw_reason: String,
    hit_verbs: Vec<String>,
    hit_reason: String,
    hit_idiom_objects: Vec<String>,
    push_verbs: Vec<String>,
    push_reason: String,
    people_verbs: Vec<String>,
    to_person_verbs: Vec<String>,
    people_words: Vec<String>,
    people_reference_words: Vec<String>,
    body_words: Vec<String>,
    people_reason: String,
    floor_words: Vec<String>,
    floor_destinations: Vec<String>,
    floor_furniture: Vec<String>,
    floor_reason: String,
    fixed_reason: String,
    reach_subjects: Vec<String>,
    reach_verbs: Vec<String>,
    reach_positions: Vec<String>,
    reach_places: Vec<String>,
    reach_standalone: Vec<String>,
    haste: Vec<String>,
    reach_reason: String,
    fixed_verbs: Vec<String>,
    fixed_nouns: Vec<String>,
    tamper_equipment: Vec<String>,
    tamper_verbs: Vec<String>,
    tamper_reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VerbsFile {
    clear: Vec<String>,
    put: Vec<String>,
    discard: Vec<String>,
    pick: Vec<String>,
    leave: Vec<String>,
    avoid: Vec<String>,
    negatable: Vec<String>,
    avoid_negated: Vec<String>,
    phrasal: Vec<[String; 3]>,
    leave_tails: Vec<String>,
    go_verbs: Vec<String>,
    stay_verbs: Vec<String>,
    done_words: BTreeMap<String, String>,
    need_words: Vec<String>,
    hold_tails: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FillerFile {
    phrases: Vec<String>,
    disfluencies: Vec<String>,
    corrections: Vec<String>,
    rewrites: Vec<[String; 2]>,
    talk_openers: Vec<String>,
    statements: Vec<String>,
    binding_words: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderFile {
    first: Vec<String>,
    start_with: Vec<String>,
    as_said: Vec<String>,
    last: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LexiconFile {
    colors: Vec<String>,
    color_synonyms: BTreeMap<String, String>,
    color_suffixes: Vec<String>,
    color_shades: Vec<String>,
    color_before_noun: BTreeMap<String, String>,
    unchecked: Vec<String>,
    definite: Vec<String>,
    indefinite: Vec<String>,
    universal: Vec<String>,
    both: Vec<String>,
    numbers: BTreeMap<String, usize>,
    ordinals: BTreeMap<String, i64>,
    superlatives: BTreeMap<String, String>,
    self_words: Vec<String>,
    sides: BTreeMap<String, String>,
    relations: Vec<[String; 2]>,
    classes: BTreeMap<String, Vec<String>>,
    irregular_plurals: BTreeMap<String, String>,
    mass: Vec<String>,
    everything: Vec<String>,
    rest: Vec<String>,
    other_words: Vec<String>,
    pronouns: Vec<String>,
    table: Vec<String>,
    containers: BTreeMap<String, Vec<String>>,
    places: Vec<String>,
    into: Vec<String>,
    from: Vec<String>,
}

/// What a verb does to the objects it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum VerbKind {
    /// Everything on the table (or the named objects) into the container.
    Clear,
    /// The named objects somewhere: a destination must be said.
    Put,
    /// The named objects into the container; no destination needed.
    Discard,
    /// Pick one object up and hold it.
    Pick,
    /// The named objects stay where they are.
    Leave,
}

/// A set of phrases, longest first, matched at a position in a word list.
#[derive(Debug, Clone, Default)]
pub struct Phrases(Vec<Phrase>);

impl Phrases {
    fn new<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Self {
        let mut v: Vec<Phrase> = items
            .into_iter()
            .map(|s| s.as_ref().split_whitespace().map(str::to_string).collect())
            .filter(|p: &Phrase| !p.is_empty())
            .collect();
        v.sort_by_key(|p| std::cmp::Reverse(p.len()));
        Self(v)
    }

    /// The length of the longest phrase that starts at `at`, if any.
    pub fn at(&self, words: &[String], at: usize) -> Option<usize> {
        self.0
            .iter()
            .find(|p| words.len() >= at + p.len() && words[at..at + p.len()] == p[..])
            .map(Vec::len)
    }

    /// Adds phrases, keeping the longest first.
    fn extend<S: AsRef<str>>(&mut self, items: impl IntoIterator<Item = S>) {
        let mut more = Self::new(items).0;
        self.0.append(&mut more);
        self.0.sort_by_key(|p| std::cmp::Reverse(p.len()));
    }

    pub fn contains_word(&self, w: &str) -> bool {
        self.0.iter().any(|p| p.len() == 1 && p[0] == w)
    }

    /// The words of these phrases.
    pub fn words(&self) -> impl Iterator<Item = &String> {
        self.0.iter().flatten()
    }

    /// The phrases that are one word.
    pub fn single_words(&self) -> impl Iterator<Item = &String> {
        self.0.iter().filter(|p| p.len() == 1).flatten()
    }

    /// Whether any phrase occurs anywhere in `words`.
    pub fn occurs_in(&self, words: &[String]) -> bool {
        (0..words.len()).any(|i| self.at(words, i).is_some())
    }
}

/// A map from phrases to values, longest phrase first.
#[derive(Debug, Clone)]
pub struct PhraseMap<T>(Vec<(Phrase, T)>);

impl<T: Clone> PhraseMap<T> {
    fn new(items: impl IntoIterator<Item = (String, T)>) -> Self {
        let mut v: Vec<(Phrase, T)> = items
            .into_iter()
            .map(|(k, t)| (k.split_whitespace().map(str::to_string).collect(), t))
            .collect();
        v.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        Self(v)
    }

    /// Adds entries, keeping the longest phrase first.
    fn extend(&mut self, items: impl IntoIterator<Item = (String, T)>) {
        let mut more = Self::new(items).0;
        self.0.append(&mut more);
        self.0.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    }

    /// The words of this map's phrases.
    pub fn words(&self) -> impl Iterator<Item = &String> {
        self.0.iter().flat_map(|(p, _)| p.iter())
    }

    /// The values this map gives.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.0.iter().map(|(_, t)| t)
    }

    /// The value and length of the longest phrase starting at `at`.
    pub fn at(&self, words: &[String], at: usize) -> Option<(T, usize)> {
        self.0
            .iter()
            .find(|(p, _)| words.len() >= at + p.len() && words[at..at + p.len()] == p[..])
            .map(|(p, t)| (t.clone(), p.len()))
    }

    pub fn get(&self, word: &str) -> Option<T> {
        self.0
            .iter()
            .find(|(p, _)| p.len() == 1 && p[0] == word)
            .map(|(_, t)| t.clone())
    }
}

pub struct Safety {
    pub injection_words: Phrases,
    pub injection_phrases: Phrases,
    pub injection_reason: String,
    pub throw_verbs: Vec<String>,
    pub throw_particles: Vec<String>,
    pub throw_reason: String,
    pub hit_verbs: Vec<String>,
    pub hit_reason: String,
    /// "hit the lights", "smash my high score": idioms, not hitting.
    pub hit_idiom_objects: Vec<String>,
    pub push_verbs: Vec<String>,
    pub push_reason: String,
    pub people_verbs: Vec<String>,
    pub to_person_verbs: Vec<String>,
    pub people_words: Vec<String>,
    pub people_reference_words: Vec<String>,
    pub body_words: Vec<String>,
    pub people_reason: String,
    pub floor_words: Vec<String>,
    pub floor_destinations: Phrases,
    pub floor_furniture: Vec<String>,
    pub floor_reason: String,
    pub fixed_reason: String,
    /// Who may be said to be within the arm's reach, besides `people_words`.
    pub reach_subjects: Vec<String>,
    /// Verbs that say the subject is there now ("standing", "leans").
    pub reach_verbs: Vec<String>,
    /// "next to", "over": followed by one of `reach_places`.
    pub reach_positions: Phrases,
    pub reach_places: Vec<String>,
    /// "nearby", "in the way": a position that needs no place.
    pub reach_standalone: Phrases,
    /// Asking for haste, or to carry on regardless of someone.
    pub haste: Phrases,
    pub reach_reason: String,
    /// Verbs of moving, and the table and containers: "move the bin" is refused.
    pub fixed_verbs: Vec<String>,
    pub fixed_nouns: Vec<String>,
    /// The arm's safety equipment, and words that switch it off.
    pub tamper_equipment: Phrases,
    pub tamper_verbs: Vec<String>,
    pub tamper_reason: String,
}

pub struct Verbs {
    /// Single-word verbs and every kind each may have ("take": put or pick).
    pub words: BTreeMap<String, Vec<VerbKind>>,
    /// (verb, particle) -> kind: "throw away" discards, "pick up" picks.
    pub phrasal: BTreeMap<(String, String), VerbKind>,
    /// Verbs that only appear negated ("don't touch").
    pub negatable: Vec<String>,
    /// Leave verbs that also keep the hand away ("avoid the cup"), and negated verbs that do
    /// ("don't touch the cup"): the clause adds a keep-away constraint.
    pub avoid: Vec<String>,
    pub avoid_negated: Vec<String>,
    pub leave_tails: Phrases,
    pub go_verbs: Vec<String>,
    pub stay_verbs: Vec<String>,
    /// Participles after "I need/want X ...": "cleared", "thrown away".
    pub done_words: PhraseMap<VerbKind>,
    pub need_words: Vec<String>,
    /// "and hold it", "keep hold of it": after a pick, they ask for nothing more.
    pub hold_tails: Phrases,
}

pub struct Lexicon {
    pub colors: Vec<String>,
    pub color_synonyms: BTreeMap<String, String>,
    pub color_suffixes: Vec<String>,
    /// Words that may come before a colour without changing it ("the dark blue box").
    pub color_shades: Vec<String>,
    /// Materials and states the scene does not record: allowed before a noun, narrowing nothing.
    pub unchecked: Vec<String>,
    /// Colours only before a noun ("the ruby cup", "the plum box"): the grammar's and the
    /// WordNet lexicon's.
    pub color_before_noun: BTreeMap<String, String>,
    /// How many words the WordNet lexicon added.
    pub wordnet_words: usize,
    pub definite: Phrases,
    pub indefinite: Vec<String>,
    pub universal: Phrases,
    pub both: Phrases,
    pub numbers: BTreeMap<String, usize>,
    pub ordinals: BTreeMap<String, i64>,
    pub superlatives: BTreeMap<String, String>,
    pub self_words: Phrases,
    pub sides: PhraseMap<String>,
    pub relations: PhraseMap<String>,
    pub classes: PhraseMap<Vec<String>>,
    pub irregular_plurals: BTreeMap<String, String>,
    pub mass: Vec<String>,
    pub everything: Phrases,
    pub rest: Phrases,
    pub other_words: Vec<String>,
    pub pronouns: Phrases,
    pub table: Phrases,
    pub containers: PhraseMap<Vec<String>>,
    pub places: Phrases,
    pub into: Phrases,
    pub from: Phrases,
}

pub struct Grammar {
    pub safety: Safety,
    pub verbs: Verbs,
    pub fillers: Phrases,
    /// "um", "uh", ", like,": dropped before parsing (speech.rs).
    pub disfluencies: Phrases,
    /// "no wait", "sorry": the list item after one replaces the one before.
    pub corrections: Phrases,
    /// Phrases read as others before parsing ("more near" -> "nearer").
    pub rewrites: PhraseMap<Phrase>,
    /// How talk that is not an instruction may start (skipped when unreadable and harmless).
    pub talk_openers: Vec<String>,
    pub statements: Phrases,
    /// Words that make a remark matter to the plan (time, manner, care, negation, questions
    /// of which): a remark without a talk opener is only skipped when it has none of them.
    pub binding_words: Vec<String>,
    pub first: Phrases,
    pub start_with: Phrases,
    pub as_said: Phrases,
    pub last: Phrases,
    pub lexicon: Lexicon,
    /// Every word and phrase the grammar file names, in any list: the WordNet lexicon never
    /// changes these.
    vocabulary: BTreeSet<String>,
}

/// A planner grammar that cannot be used, with the part at fault.
#[derive(Debug, thiserror::Error)]
pub enum GrammarError {
    #[error("planner grammar: {0}")]
    Toml(String),
    #[error("planner grammar: verb '{verb}': unknown kind '{kind}'")]
    UnknownKind { verb: String, kind: String },
    #[error(transparent)]
    Lexicon(#[from] LexiconError),
}

/// Every string in a TOML document, whole and word by word, and every key.
fn strings_in(v: &toml::Value, out: &mut BTreeSet<String>) {
    match v {
        toml::Value::String(s) => {
            out.insert(s.clone());
            out.extend(s.split_whitespace().map(str::to_string));
        }
        toml::Value::Array(a) => a.iter().for_each(|x| strings_in(x, out)),
        toml::Value::Table(t) => {
            for (k, x) in t {
                out.insert(k.clone());
                out.extend(k.split_whitespace().map(str::to_string));
                strings_in(x, out);
            }
        }
        _ => {}
    }
}

fn kind(verb: &str, name: &str) -> Result<VerbKind, GrammarError> {
    Ok(match name {
        "clear" => VerbKind::Clear,
        "put" => VerbKind::Put,
        "discard" => VerbKind::Discard,
        "pick" => VerbKind::Pick,
        "leave" => VerbKind::Leave,
        other => {
            return Err(GrammarError::UnknownKind {
                verb: verb.to_string(),
                kind: other.to_string(),
            })
        }
    })
}

impl Grammar {
    /// Parses a grammar; errors name the part at fault.
    pub fn parse(text: &str) -> Result<Self, GrammarError> {
        let g: GrammarFile = toml::from_str(text).map_err(|e| GrammarError::Toml(e.to_string()))?;
        let mut vocabulary = BTreeSet::new();
        let mut all: toml::Value =
            toml::from_str(text).map_err(|e| GrammarError::Toml(e.to_string()))?;
        // The binding words are words the planner does not understand (they stop a remark from
        // being skipped): not vocabulary, and nothing a typo is corrected to.
        if let Some(filler) = all.get_mut("filler").and_then(|f| f.as_table_mut()) {
            filler.remove("binding_words");
        }
        // Nor are the words only the safety screen reads (who is within the arm's reach, the
        // safety equipment, what cannot be moved, the reasons): a remark made of them ("the cat
        // likes the far end of the table") is still skipped as talk, and a word such as
        // "wastebin" is still read through the lexicon.
        if let Some(safety) = all.get_mut("safety").and_then(|f| f.as_table_mut()) {
            safety.retain(|k, _| {
                !(k.starts_with("reach_")
                    || k.starts_with("tamper_")
                    || k == "fixed_verbs"
                    || k == "hit_idiom_objects"
                    || k == "fixed_nouns"
                    || k == "floor_furniture"
                    || k == "haste")
            });
        }
        strings_in(&all, &mut vocabulary);
        let s = g.safety;
        let v = g.verbs;
        let mut words: BTreeMap<String, Vec<VerbKind>> = BTreeMap::new();
        for (list, k) in [
            (&v.clear, VerbKind::Clear),
            (&v.put, VerbKind::Put),
            (&v.discard, VerbKind::Discard),
            (&v.pick, VerbKind::Pick),
            (&v.leave, VerbKind::Leave),
            (&v.avoid, VerbKind::Leave),
        ] {
            for w in list {
                words.entry(w.clone()).or_default().push(k);
            }
        }
        let mut phrasal = BTreeMap::new();
        for [verb, particle, k] in &v.phrasal {
            phrasal.insert((verb.clone(), particle.clone()), kind(verb, k)?);
        }
        let mut done_words = Vec::new();
        for (w, k) in &v.done_words {
            done_words.push((w.clone(), kind(w, k)?));
        }
        let done_words = PhraseMap::new(done_words);
        let l = g.lexicon;
        Ok(Self {
            safety: Safety {
                injection_words: Phrases::new(&s.injection_words),
                injection_phrases: Phrases::new(&s.injection_phrases),
                injection_reason: s.injection_reason,
                throw_verbs: s.throw_verbs,
                throw_particles: s.throw_particles,
                throw_reason: s.throw_reason,
                hit_verbs: s.hit_verbs,
                hit_reason: s.hit_reason,
                hit_idiom_objects: s.hit_idiom_objects,
                push_verbs: s.push_verbs,
                push_reason: s.push_reason,
                people_verbs: s.people_verbs,
                to_person_verbs: s.to_person_verbs,
                people_words: s.people_words,
                people_reference_words: s.people_reference_words,
                body_words: s.body_words,
                people_reason: s.people_reason,
                floor_words: s.floor_words,
                floor_destinations: Phrases::new(&s.floor_destinations),
                floor_furniture: s.floor_furniture,
                floor_reason: s.floor_reason,
                fixed_reason: s.fixed_reason,
                reach_subjects: s.reach_subjects,
                reach_verbs: s.reach_verbs,
                reach_positions: Phrases::new(&s.reach_positions),
                reach_places: s.reach_places,
                reach_standalone: Phrases::new(&s.reach_standalone),
                haste: Phrases::new(&s.haste),
                reach_reason: s.reach_reason,
                fixed_verbs: s.fixed_verbs,
                fixed_nouns: s.fixed_nouns,
                tamper_equipment: Phrases::new(&s.tamper_equipment),
                tamper_verbs: s.tamper_verbs,
                tamper_reason: s.tamper_reason,
            },
            verbs: Verbs {
                words,
                phrasal,
                negatable: v.negatable,
                avoid: v.avoid,
                avoid_negated: v.avoid_negated,
                leave_tails: Phrases::new(&v.leave_tails),
                go_verbs: v.go_verbs,
                stay_verbs: v.stay_verbs,
                done_words,
                need_words: v.need_words,
                hold_tails: Phrases::new(&v.hold_tails),
            },
            fillers: Phrases::new(&g.filler.phrases),
            disfluencies: Phrases::new(&g.filler.disfluencies),
            corrections: Phrases::new(&g.filler.corrections),
            rewrites: PhraseMap::new(
                g.filler
                    .rewrites
                    .into_iter()
                    .map(|[from, to]| (from, to.split_whitespace().map(str::to_string).collect())),
            ),
            talk_openers: g.filler.talk_openers,
            statements: Phrases::new(&g.filler.statements),
            binding_words: g.filler.binding_words,
            first: Phrases::new(&g.order.first),
            start_with: Phrases::new(&g.order.start_with),
            as_said: Phrases::new(&g.order.as_said),
            last: Phrases::new(&g.order.last),
            lexicon: Lexicon {
                colors: l.colors,
                color_synonyms: l.color_synonyms,
                color_suffixes: l.color_suffixes,
                color_shades: l.color_shades,
                unchecked: l.unchecked,
                color_before_noun: l.color_before_noun,
                wordnet_words: 0,
                definite: Phrases::new(&l.definite),
                indefinite: l.indefinite,
                universal: Phrases::new(&l.universal),
                both: Phrases::new(&l.both),
                numbers: l.numbers,
                ordinals: l.ordinals,
                superlatives: l.superlatives,
                self_words: Phrases::new(&l.self_words),
                sides: PhraseMap::new(l.sides),
                relations: PhraseMap::new(l.relations.into_iter().map(|[a, b]| (a, b))),
                classes: PhraseMap::new(l.classes),
                irregular_plurals: l.irregular_plurals,
                mass: l.mass,
                everything: Phrases::new(&l.everything),
                rest: Phrases::new(&l.rest),
                other_words: l.other_words,
                pronouns: Phrases::new(&l.pronouns),
                table: Phrases::new(&l.table),
                containers: PhraseMap::new(l.containers),
                places: Phrases::new(&l.places),
                into: Phrases::new(&l.into),
                from: Phrases::new(&l.from),
            },
            vocabulary,
        })
    }

    /// The grammar with the words of a WordNet lexicon (`wordnet.tsv`) it does not define
    /// itself, those scoring at least `threshold`.
    pub fn with_wordnet(mut self, text: &str, threshold: f32) -> Result<Self, GrammarError> {
        let lex = &mut self.lexicon;
        let mut nouns: BTreeSet<String> = lex
            .classes
            .values()
            .chain(lex.containers.values())
            .flatten()
            .filter(|c| *c != "*")
            .cloned()
            .collect();
        nouns.insert("table".into());
        let labels = wordnet::Labels {
            nouns,
            colors: lex.colors.iter().cloned().collect(),
        };
        let containers: BTreeSet<String> = lex.containers.values().flatten().cloned().collect();
        let (mut classes, mut tables, mut bins) = (Vec::new(), Vec::new(), Vec::new());
        for e in wordnet::parse(text, &labels)? {
            if e.score < threshold || self.vocabulary.contains(&e.phrase) {
                continue;
            }
            lex.wordnet_words += 1;
            match e.meaning {
                Meaning::Noun(n) if n == "table" => tables.push(e.phrase),
                Meaning::Noun(n) if containers.contains(&n) => bins.push((e.phrase, vec![n])),
                Meaning::Noun(n) => classes.push((e.phrase, vec![n])),
                Meaning::Color(c) => {
                    lex.color_synonyms.insert(e.phrase, c);
                }
                Meaning::ColorBeforeNoun(c) => {
                    lex.color_before_noun.insert(e.phrase, c);
                }
            }
        }
        lex.classes.extend(classes);
        lex.table.extend(tables);
        lex.containers.extend(bins);
        Ok(self)
    }

    /// The shipped grammar and WordNet lexicon.
    pub fn builtin() -> Self {
        Self::parse(BUILTIN)
            .and_then(|g| g.with_wordnet(wordnet::BUILTIN, wordnet::THRESHOLD))
            .expect("the built-in grammar and lexicon are valid (checked by a unit test)")
    }

    /// The kinds a word may have as a verb, looking through inflections ("binning", "tidied").
    pub fn verb(&self, word: &str) -> Option<(String, Vec<VerbKind>)> {
        base_forms(word)
            .into_iter()
            .find_map(|b| self.verbs.words.get(&b).map(|k| (b, k.clone())))
    }

    /// Whether the grammar file itself names `phrase` (in any list): what the WordNet merge
    /// skips; the lexicon's test checks that no shipped row is such a phrase.
    #[cfg(test)]
    pub fn defines(&self, phrase: &str) -> bool {
        self.vocabulary.contains(phrase)
    }

    /// Whether the grammar or its WordNet lexicon gives `word` any meaning.
    pub fn knows(&self, word: &str) -> bool {
        self.vocabulary.contains(word)
            || self.verb(word).is_some()
            || self.lexicon.color(word).is_some()
            || self.lexicon.color_before_noun.contains_key(word)
            || self.lexicon.class_at(&[word.to_string()], 0).is_some()
            || self.lexicon.containers.get(word).is_some()
            || self.lexicon.table.contains_word(word)
    }

    /// Every single word the grammar and its WordNet lexicon know as they are written: what a
    /// typo is corrected to (`spelling.rs`).
    pub fn words(&self) -> BTreeSet<String> {
        let lex = &self.lexicon;
        self.vocabulary
            .iter()
            .flat_map(|p| p.split_whitespace())
            .map(str::to_string)
            .chain(lex.classes.words().cloned())
            .chain(lex.containers.words().cloned())
            .chain(lex.color_synonyms.keys().cloned())
            .chain(lex.color_before_noun.keys().cloned())
            .chain(lex.table.words().cloned())
            .collect()
    }

    /// Whether `word` is an inflection of one of `verbs`.
    pub fn is_form_of(word: &str, verbs: &[String]) -> bool {
        base_forms(word)
            .iter()
            .any(|b| verbs.iter().any(|v| v == b))
    }
}

impl Lexicon {
    /// The scene colour a word names.
    pub fn color(&self, word: &str) -> Option<String> {
        if self.colors.iter().any(|c| c == word) {
            return Some(word.to_string());
        }
        self.color_synonyms.get(word).cloned()
    }

    /// The colour a word names where a noun or another colour follows it ("the ruby cup",
    /// "the dark blue box": `dark` gives none and `blue` blue).
    pub fn color_before(&self, words: &[String], at: usize) -> Option<Option<String>> {
        let w = words.get(at)?;
        let mut next = at + 1;
        // "the lemon-coloured mug".
        while words
            .get(next)
            .is_some_and(|s| self.color_suffixes.contains(s) && s != "one" && s != "ones")
        {
            next += 1;
        }
        if !self.color_or_noun_at(words, next) {
            return None;
        }
        if let Some(c) = self.color_before_noun.get(w) {
            return Some(Some(c.clone()));
        }
        let shade_then_color = self.color_shades.iter().any(|s| s == w)
            && words
                .get(next)
                .is_some_and(|n| self.color(n).is_some() || self.color_before_noun.contains_key(n));
        shade_then_color.then_some(None)
    }

    /// Whether an object noun or a colour starts at `at` (what may follow an adjective).
    pub fn color_or_noun_at(&self, words: &[String], at: usize) -> bool {
        self.class_at(words, at).is_some()
            || words.get(at).is_some_and(|n| {
                self.color(n).is_some()
                    || self.color_before_noun.contains_key(n)
                    || self.color_shades.contains(n)
                    || self.unchecked.contains(n)
            })
    }

    /// The classes an object word (singular or plural) means, its length, and whether it was
    /// plural.
    pub fn class_at(&self, words: &[String], at: usize) -> Option<(Vec<String>, usize, bool)> {
        let mut best: Option<(Vec<String>, usize, bool)> = None;
        let mut consider = |c: Vec<String>, n: usize, plural: bool| {
            if best.as_ref().is_none_or(|(_, m, _)| n > *m) {
                best = Some((c, n, plural));
            }
        };
        if let Some((c, n)) = self.classes.at(words, at) {
            let mass = self.mass.iter().any(|m| *m == words[at + n - 1]);
            consider(c, n, mass);
        }
        // Plurals: the last word of the phrase inflected ("soda cans", "boxes").
        for n in 1..=3 {
            if words.len() < at + n {
                break;
            }
            let last = &words[at + n - 1];
            let singulars: Vec<String> = match self.irregular_plurals.get(last) {
                Some(s) => vec![s.clone()],
                None => [last.strip_suffix("es"), last.strip_suffix('s')]
                    .into_iter()
                    .flatten()
                    .map(str::to_string)
                    .collect(),
            };
            for s in singulars {
                let mut phrase: Vec<String> = words[at..at + n - 1].to_vec();
                phrase.push(s);
                if let Some((c, m)) = self.classes.at(&phrase, 0) {
                    if m == n {
                        consider(c, n, true);
                    }
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_grammar_loads() {
        let g = Grammar::parse(BUILTIN).unwrap();
        assert!(g.verb("binning").is_some());
        assert_eq!(g.verb("tidied").unwrap().1, vec![VerbKind::Clear]);
        let words: Vec<String> = ["soda", "cans"].iter().map(|s| s.to_string()).collect();
        assert_eq!(
            g.lexicon.class_at(&words, 0),
            Some((vec!["can".to_string()], 2, true))
        );
    }

    #[test]
    fn bad_grammar_names_the_part() {
        let bad = BUILTIN.replace(
            "[\"pick\", \"up\", \"pick\"]",
            "[\"pick\", \"up\", \"yeet\"]",
        );
        let err = Grammar::parse(&bad).err().unwrap().to_string();
        assert!(err.contains("yeet"), "{err}");
    }
}
