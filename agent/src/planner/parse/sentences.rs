//! A request's sentences read in turn, and what they say of each other: talk to someone else
//! before the speaker turns to the robot, headings before a colon, a signature under a letter,
//! sweeps across the table ("from left to right"), a list said again as "all", a pointed-at
//! object narrowed ("See the can? The green one."), and a bare "one" of a group named before.

use super::super::grammar::{Grammar, VerbKind};
use super::super::text::phrase_at;
use super::{Action, Clause, Item, ParseError, Parsed, Parser, Quantity};

/// Parses every sentence of a request into clauses. Where the request cannot be read as a
/// whole and the speaker turns to the robot part-way ("hang on, sweetie, shoes on, we're late!
/// okay robot: first the green can ..."), what came before the turn is talk to someone else
/// when it names and asks for nothing: it is skipped, and said.
pub fn parse(g: &Grammar, sentences: &[Vec<String>]) -> Result<Parsed, ParseError> {
    let err = match parse_all(g, sentences) {
        Ok(p) => return Ok(p),
        Err(e) => e,
    };
    let Some((s, k)) = turn_to_robot(sentences) else {
        return Err(err);
    };
    let before: Vec<String> = sentences[..s]
        .iter()
        .flatten()
        .chain(&sentences[s][..k])
        .cloned()
        .collect();
    // "hold on," / "hang on,": wait a moment, not a pick.
    let said: Vec<String> = before
        .iter()
        .enumerate()
        .filter(|&(j, w)| {
            let on_pause = |a: usize| {
                before.get(a + 1).is_some_and(|n| n == "on")
                    && before.get(a + 2).is_none_or(|n| n == ",")
            };
            let held = matches!(w.as_str(), "hold" | "hang") && on_pause(j);
            let on = w == "on"
                && j > 0
                && matches!(before[j - 1].as_str(), "hold" | "hang")
                && on_pause(j - 1);
            !(held || on)
        })
        .map(|(_, w)| w.clone())
        .collect();
    // It must open as talk does ("hang on", "yes", "okay", "sorry", "I ..."): "wipe the
    // table. robot, put the cup in the bin" may be an order the planner does not know.
    let opens_as_talk = before.first().is_some_and(|f| {
        g.talk_openers.contains(f) || matches!(f.as_str(), "hang" | "hold" | "one")
    });
    let talk = Parser { g, w: &said, i: 0 };
    if !opens_as_talk || !talk.asks_nothing(0, said.len(), false) {
        return Err(err);
    }
    let mut rest = vec![sentences[s][k..].to_vec()];
    rest.extend_from_slice(&sentences[s + 1..]);
    let mut parsed = parse_all(g, &rest).map_err(|_| err)?;
    let shown = before.join(" ");
    parsed
        .skipped
        .insert(0, shown.trim_end_matches([' ', ',']).to_string());
    Ok(parsed)
}

/// Where the speaker last turns to the robot by name, with something said before it: "robot"
/// (or "computer") standing alone before a comma or the sentence's end, after the start, a
/// comma or an interjection ("okay robot:", "sorry, robot:"). (sentence, word) of the name.
fn turn_to_robot(sentences: &[Vec<String>]) -> Option<(usize, usize)> {
    let mut found = None;
    for (s, w) in sentences.iter().enumerate() {
        for k in 0..w.len() {
            if !matches!(w[k].as_str(), "robot" | "computer") {
                continue;
            }
            let alone_after = w.get(k + 1).is_none_or(|n| n == "," || n == ":");
            let mut start = k;
            while start > 0
                && matches!(
                    w[start - 1].as_str(),
                    "okay" | "ok" | "sorry" | "hey" | "alright" | "now" | "right" | "so" | "oh"
                )
            {
                start -= 1;
            }
            let alone_before = start == 0 || w[start - 1] == ",";
            if alone_after && alone_before && (s > 0 || start > 0) {
                found = Some((s, start));
            }
        }
    }
    found
}

fn parse_all(g: &Grammar, sentences: &[Vec<String>]) -> Result<Parsed, ParseError> {
    let mut out = Parsed::default();
    for (sentence, words) in sentences.iter().enumerate() {
        // "Checklist:", "Station check, in this order:": a heading before a colon that cannot
        // be read and names and asks for nothing is skipped ("bin:" is read: a verb whose
        // objects follow).
        let (words, heading) = match words.split_last() {
            Some((last, rest)) if last == ":" => (rest, true),
            _ => (words.as_slice(), false),
        };
        if words.is_empty() {
            continue;
        }
        // "Do these in order, into the bin: the cup, then ...": before a colon, "these" and
        // "the following" point at what comes after it, which the next sentences name.
        let pointed;
        let words = if heading {
            pointed = without_forward_pointers(words);
            pointed.as_slice()
        } else {
            words
        };
        let (swept, sweep) = without_sweep(words);
        let words = swept.as_slice();
        if words.is_empty() {
            continue;
        }
        let mut p = Parser { g, w: words, i: 0 };
        let (before, skipped) = (out.clauses.len(), out.skipped.len());
        let read = p.sentence(&mut out);
        let otherwise_from = out.otherwise_from.take();
        if read.is_ok() {
            for (k, c) in out.clauses.iter_mut().enumerate().skip(before) {
                c.sentence = sentence;
                c.otherwise |= otherwise_from.is_some_and(|from| k >= from);
            }
        }
        if let (Ok(()), Some(key)) = (&read, &sweep) {
            for c in &mut out.clauses[before..] {
                c.sweep = Some(key.clone());
            }
        }
        match read {
            Ok(()) => {}
            // "Many thanks,\nMargaret": a name that signs the request off.
            Err(_) if signature(g, sentences, words) => {
                out.clauses.truncate(before);
                out.skipped.truncate(skipped);
                out.skipped.push(words.join(" "));
                continue;
            }
            Err(_) if heading && p.asks_nothing(0, words.len(), false) => {
                out.clauses.truncate(before);
                out.skipped.truncate(skipped);
                out.skipped.push(words.join(" "));
                continue;
            }
            Err(e) => return Err(e),
        }
        // "... in the bin! and the orange one!", "After that, the green one.": a sentence
        // opening with "and" or a step of a sequence adds.
        if !words.first().is_some_and(|w| {
            matches!(
                w.as_str(),
                "and"
                    | "also"
                    | "plus"
                    | "after"
                    | "then"
                    | "next"
                    | "afterwards"
                    | "finally"
                    | "lastly"
            )
        }) {
            narrow_what_was_pointed_at(&mut out.clauses, before);
        }
        a_list_said_again(&mut out.clauses, before);
    }
    give_ones_their_group(&mut out.clauses);
    Ok(out)
}

/// A heading's words without those that point forward to the list after its colon ("do these
/// in order", "put the following in the bin", "bin these"); "in this order" keeps its words.
fn without_forward_pointers(words: &[String]) -> Vec<String> {
    const POINTERS: &[&[&str]] = &[
        &["do", "the", "following", "things"],
        &["do", "the", "following"],
        &["do", "these", "things"],
        &["do", "these"],
        &["do", "this"],
        &["do", "them"],
        &["the", "following", "objects"],
        &["the", "following", "items"],
        &["the", "following", "things"],
        &["the", "following"],
        &["these", "objects"],
        &["these", "items"],
        &["these", "things"],
        &["these"],
        &["as", "follows"],
    ];
    let mut out = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        if let Some(p) = POINTERS.iter().find(|p| phrase_at(words, i, p)) {
            i += p.len();
            continue;
        }
        out.push(words[i].clone());
        i += 1;
    }
    out
}

/// Whether `words` is the request's last sentence and only a name (one or two words the
/// planner does not know) after a sentence that closes a letter ("Many thanks,", "Best,").
fn signature(g: &Grammar, sentences: &[Vec<String>], words: &[String]) -> bool {
    const CLOSINGS: &[&str] = &[
        "thanks",
        "thank",
        "regards",
        "cheers",
        "wishes",
        "sincerely",
        "best",
        "love",
        "yours",
        "warmly",
        "gratefully",
    ];
    let n = sentences.len();
    n >= 2
        && sentences[n - 1].as_slice() == words
        && (1..=2).contains(&words.len())
        && words
            .iter()
            .all(|w| w.chars().all(char::is_alphabetic) && !g.knows(w))
        && sentences[n - 2]
            .iter()
            .any(|w| CLOSINGS.contains(&w.as_str()))
}

/// How people say to work across the table: (words, superlative key of what goes first).
const SWEEPS: &[(&str, &str)] = &[
    ("from left to right", "left"),
    ("from the left to the right", "left"),
    ("left to right", "left"),
    ("from right to left", "right"),
    ("from the right to the left", "right"),
    ("right to left", "right"),
    ("from front to back", "near"),
    ("from the front to the back", "near"),
    ("front to back", "near"),
    ("from nearest to farthest", "near"),
    ("from closest to farthest", "near"),
    ("from closest to furthest", "near"),
    ("from nearest to furthest", "near"),
    ("from near to far", "near"),
    ("from back to front", "far"),
    ("from the back to the front", "far"),
    ("back to front", "far"),
    ("from farthest to nearest", "far"),
    ("from furthest to nearest", "far"),
    ("from farthest to closest", "far"),
    ("from far to near", "far"),
    ("starting from the left", "left"),
    ("starting on the left", "left"),
    ("starting at the left", "left"),
    ("start from the left", "left"),
    ("start on the left", "left"),
    ("start at the left", "left"),
    ("starting from the right", "right"),
    ("starting on the right", "right"),
    ("starting at the right", "right"),
    ("start from the right", "right"),
    ("start on the right", "right"),
    ("start at the right", "right"),
];

/// The sentence without the words that say how to work across the table ("working from left
/// to right", "start on the right and ..."), and the key they give. Verbs of working before
/// the phrase and an "and" or comma left over go with it.
fn without_sweep(words: &[String]) -> (Vec<String>, Option<String>) {
    for (phrase, key) in SWEEPS {
        let p: Vec<&str> = phrase.split(' ').collect();
        let Some(at) = (0..words.len()).find(|&k| phrase_at(words, k, &p)) else {
            continue;
        };
        let mut from = at;
        let mut to = at + p.len();
        // ("starting on the left side")
        if words.get(to).is_some_and(|w| w == "side") {
            to += 1;
        }
        while from > 0
            && matches!(
                words[from - 1].as_str(),
                "work"
                    | "working"
                    | "go"
                    | "going"
                    | "move"
                    | "moving"
                    | "proceed"
                    | "proceeding"
                    | "do"
                    | "it"
                    | "doing"
                    | "and"
                    | "please"
                    | "just"
            )
        {
            from -= 1;
        }
        let mut out: Vec<String> = words[..from].to_vec();
        let mut rest = &words[to..];
        if out.is_empty() || out.last().is_some_and(|w| w == ",") {
            while rest.first().is_some_and(|w| w == "," || w == "and") {
                rest = &rest[1..];
            }
        }
        out.extend_from_slice(rest);
        while out.last().is_some_and(|w| w == "," || w == "and") {
            out.pop();
        }
        return (out, Some((*key).to_string()));
    }
    (words.to_vec(), None)
}

/// "far green can. yellow cup. orange cube. All into the bin.", "- both red cubes - the white
/// can. All into the bin": after a list of objects named without a verb, a bare "all" or
/// "each" means the objects listed (as "them" would), not everything on the table.
fn a_list_said_again(clauses: &mut [Clause], first_new: usize) {
    let listed = first_new > 0
        && clauses[first_new - 1].action == Action::Bare
        && !clauses[first_new - 1].condition
        && !clauses[first_new - 1].remark
        && !clauses[first_new - 1].objects.is_empty();
    if !listed {
        return;
    }
    if let Some(c) = clauses.get_mut(first_new) {
        if let [Item::Ref(r)] = c.objects.as_slice() {
            let bare_all = matches!(r.quantity, Quantity::All | Quantity::Both)
                && r.classes.is_none()
                && r.colors.is_empty()
                && r.not_colors.is_empty()
                && r.not_classes.is_empty()
                && r.rank.is_none()
                && r.relation.is_none()
                && !r.other
                && matches!(
                    r.text.as_str(),
                    "all" | "each" | "all of them" | "each of them"
                );
            if bare_all && c.except.is_empty() {
                // "Cup first, then the cube. Both go in the bin.": where the list goes.
                let goes = matches!(
                    c.action,
                    Action::Verb(VerbKind::Put | VerbKind::Discard) | Action::PutOrPick
                );
                if goes && c.dest.is_some() {
                    c.objects.clear();
                    c.action = Action::DestOnly;
                } else {
                    c.objects = vec![Item::Pronoun];
                }
            }
        }
    }
}

/// "See the can? The green one. Pick it up.": a sentence that is only a bare "one" with
/// something said of it, right after a sentence that only pointed at objects, says which of
/// them is meant: it replaces the last object pointed at, as one of its kind.
fn narrow_what_was_pointed_at(clauses: &mut Vec<Clause>, first_new: usize) {
    let pointed = |c: &Clause| {
        c.action == Action::Bare
            && !c.condition
            && c.except.is_empty()
            && c.dest.is_none()
            && !c.first
            && !c.last
    };
    // "Could you throw away the green can further back? The one farther from you.": after an
    // order for one object, a sentence that is only "the one ..." says which, again.
    let ordered_one = |c: &Clause| {
        matches!(
            c.action,
            Action::Verb(VerbKind::Put | VerbKind::Discard | VerbKind::Pick) | Action::PutOrPick
        ) && c.except.is_empty()
            && matches!(c.objects.last(), Some(Item::Ref(r)) if r.quantity == Quantity::Definite && r.classes.is_some())
    };
    if first_new == 0
        || clauses.len() != first_new + 1
        || !(pointed(&clauses[first_new - 1]) || ordered_one(&clauses[first_new - 1]))
    {
        return;
    }
    let new = &clauses[first_new];
    let adds = new
        .text
        .split(' ')
        .any(|w| matches!(w, "too" | "also" | "and" | "well" | "then"));
    let narrows = pointed(new)
        && !adds
        && matches!(new.objects.as_slice(), [Item::Ref(r)]
            if (r.bare_one || r.text.ends_with(" one")) && r.quantity == Quantity::Definite
                && r.classes.as_ref().is_none_or(|c| c.iter().all(|c| c == "*"))
                && (!r.colors.is_empty() || r.rank.is_some() || r.relation.is_some()));
    if !narrows {
        return;
    }
    let Some(Item::Ref(mut one)) = clauses.pop().and_then(|c| c.objects.into_iter().next()) else {
        return;
    };
    let prev = clauses.last_mut().expect("checked above");
    if let Some(Item::Ref(old)) = prev.objects.last() {
        one.bare_one = true;
        one.take_kind_of(&old.classes.clone(), &[]);
        prev.objects.pop();
        prev.objects.push(Item::Ref(one));
    }
}

/// "There are two blue boxes. Put the one closer to you in the bin; the other one stays.":
/// a bare "one" after a group was named (two of a kind, both, all) is one of that kind.
fn give_ones_their_group(clauses: &mut [Clause]) {
    let mut group: Option<(Option<Vec<String>>, Vec<String>)> = None;
    for c in clauses.iter_mut() {
        for it in c.objects.iter_mut().chain(c.except.iter_mut()) {
            let Item::Ref(r) = it else { continue };
            let named = r.classes.is_some() || !r.colors.is_empty();
            // "Get rid of both blue boxes ... the boxes can go in any order": "the boxes" said
            // again are the ones named, not every box on the table.
            let said_again = r.quantity == Quantity::All
                && r.colors.is_empty()
                && r.classes.is_some()
                && !r.other
                && r.rank.is_none()
                && r.ordinal.is_none()
                && r.relation.is_none()
                && ["the ", "these ", "those "]
                    .iter()
                    .any(|d| r.text.starts_with(d));
            // "every cube except the one farthest from you", "all the cans but the nearest
            // one": a whole kind named is a group too.
            let every = r.quantity == Quantity::All
                && !said_again
                && r.rank.is_none()
                && r.ordinal.is_none()
                && r.relation.is_none()
                && !r.other;
            if named && (matches!(r.quantity, Quantity::Both | Quantity::Count(2..)) || every) {
                group = Some((r.classes.clone(), r.colors.clone()));
            } else if said_again {
                if let Some((classes, colors)) = &group {
                    if *classes == r.classes && !colors.is_empty() {
                        r.colors = colors.clone();
                    }
                }
            } else if !named {
                if let Some((classes, colors)) = &group {
                    r.take_kind_of(classes, colors);
                }
            }
        }
    }
}
