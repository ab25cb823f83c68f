//! Speech that restarts or repeats itself, as a voice transcript has it (no punctuation): a
//! phrase begun and corrected ("put the red no the orange cube in the bin"), a correction said
//! mid-sentence ("put the green can in the bin no wait the white can"), and the same things
//! said again ("all the cubes go in the bin all three of them", "the boxes um the boxes").
//! Each is read here as its written form; the safety screen has already read the raw words.

use super::grammar::Grammar;
use super::text::phrase_at;

use super::speech::DETERMINERS;

/// Words that may stand between a determiner and its noun without finishing the phrase.
const MODIFIERS: &[&str] = &[
    "big", "small", "little", "large", "tall", "short", "other", "left", "right", "far", "near",
];

/// Corrections that take back what was just said, wherever they stand ("... in the bin no
/// wait the white can"). "actually", "rather" and "sorry" are not among them: mid-sentence
/// they are adverbs or politeness as often as corrections.
const TAKE_BACK: &[&[&str]] = &[
    &["no", "wait"],
    &["wait", "no"],
    &["no", "sorry"],
    &["no", "no"],
    &["actually", "no"],
    &["no", "actually"],
    &["scratch", "that"],
    &["i", "meant"],
    &["or", "rather"],
    &["my", "mistake"],
    &["my", "bad"],
    &["on", "second", "thought"],
    &["on", "second", "thoughts"],
];

/// The length of a take-back at `i`: one of [`TAKE_BACK`], or "no" right before a determiner
/// ("in the bin no the white can").
fn take_back_at(words: &[String], i: usize) -> Option<usize> {
    TAKE_BACK
        .iter()
        .find_map(|p| phrase_at(words, i, p).then_some(p.len()))
        .or_else(|| {
            let no_det = words[i] == "no"
                && words
                    .get(i + 1)
                    .is_some_and(|n| DETERMINERS.contains(&n.as_str()));
            no_det.then_some(1)
        })
}

/// Where the noun phrase being said in `out` began, if it is unfinished: a determiner
/// followed only by colours and size or side words ("the red", "the big yellow").
fn unfinished_phrase(g: &Grammar, out: &[String]) -> Option<usize> {
    let d = out
        .iter()
        .rposition(|w| DETERMINERS.contains(&w.as_str()) || w == ",")?;
    let open = DETERMINERS.contains(&out[d].as_str())
        && out[d + 1..]
            .iter()
            .all(|w| g.lexicon.color(w).is_some() || MODIFIERS.contains(&w.as_str()));
    open.then_some(d)
}

/// A restart at `i`: "the red no the orange cube", "the yellow i meant the pink cup". What
/// `out` keeps (its length) and how many words to skip.
pub fn restart_at(
    g: &Grammar,
    out: &[String],
    words: &[String],
    i: usize,
) -> Option<(usize, usize)> {
    let n = take_back_at(words, i).or_else(|| g.corrections.at(words, i))?;
    let mut k = i + n;
    if words.get(k).is_some_and(|w| w == ",") {
        k += 1;
    }
    if !words
        .get(k)
        .is_some_and(|w| DETERMINERS.contains(&w.as_str()))
    {
        return None;
    }
    let keep = unfinished_phrase(g, out)?;
    Some((keep, k - i))
}

/// A take-back at `i` that follows what it takes back with no pause written, as the writer
/// would put it ("put the green can in the bin, no wait, the white can"): the words to say and
/// how many to skip.
pub fn unpunctuated_take_back(
    out: &[String],
    words: &[String],
    i: usize,
) -> Option<(Vec<String>, usize)> {
    if out.last().is_none_or(|w| w == ",") {
        return None;
    }
    let n = take_back_at(words, i)?;
    let said: Vec<String> = if n == 1 {
        // A bare "no" says what "no wait" says.
        vec![",".into(), "no".into(), "wait".into()]
    } else {
        std::iter::once(",".to_string())
            .chain(words[i..i + n].iter().cloned())
            .collect()
    };
    Some((said, n))
}

/// Whether `out` ends with what names objects or a place: a class word, a container or table
/// word, or a word standing for objects.
fn ends_with_things(g: &Grammar, out: &[String]) -> bool {
    let Some(last) = out.last() else {
        return false;
    };
    // "everything on the table can go", "so I can take a look": "can" after anything but a
    // determiner, a colour or what cans hold is the verb.
    if last == "can" {
        let prev = out.len().checked_sub(2).map_or("", |k| out[k].as_str());
        return DETERMINERS.contains(&prev)
            || g.lexicon.color(prev).is_some()
            || matches!(
                prev,
                "soda" | "tin" | "soup" | "drink" | "beer" | "coke" | "paint" | "food" | "metal"
            );
    }
    g.lexicon.class_at(out, out.len() - 1).is_some()
        || ends_with_place(g, out)
        || matches!(
            last.as_str(),
            "it" | "them" | "ones" | "stuff" | "things" | "everything" | "objects" | "one"
        )
}

/// Whether `out` ends with a table or container named as one: "in the bin", "the whole table",
/// not the verb "bin" ("bin everything except the cup").
fn ends_with_place(g: &Grammar, out: &[String]) -> bool {
    let Some(last) = out.last() else {
        return false;
    };
    (g.lexicon.table.contains_word(last) || g.lexicon.containers.get(last).is_some())
        && out.len().checked_sub(2).is_some_and(|k| {
            let det = |j: usize| DETERMINERS.contains(&out[j].as_str());
            det(k) || (k > 0 && det(k - 1) && place_modifier(g, &out[k]))
        })
}

/// A word between a determiner and a table or container word: "the whole table", "the gray
/// bin".
fn place_modifier(g: &Grammar, w: &str) -> bool {
    g.lexicon.color(w).is_some()
        || matches!(
            w,
            "whole"
                | "entire"
                | "kitchen"
                | "dining"
                | "big"
                | "small"
                | "little"
                | "large"
                | "main"
                | "work"
                | "trash"
                | "waste"
                | "recycling"
                | "rubbish"
                | "garbage"
        )
}

/// "all of them", "all three of them", "both of them", "each of them", "all of it": the
/// length of one at `i`.
fn all_of_them_at(g: &Grammar, words: &[String], i: usize) -> Option<usize> {
    if !words
        .get(i)
        .is_some_and(|w| matches!(w.as_str(), "all" | "both" | "each" | "every"))
    {
        return None;
    }
    let mut k = i + 1;
    if words[i] == "every" {
        if words.get(k).is_none_or(|w| w != "one") {
            return None;
        }
        k += 1;
    } else if words.get(k).is_some_and(|w| is_count(g, w)) {
        k += 1;
    }
    let of_them = words.get(k).is_some_and(|w| w == "of")
        && words
            .get(k + 1)
            .is_some_and(|w| matches!(w.as_str(), "them" | "it" | "those" | "these" | "em"));
    if of_them {
        return Some(k + 2 - i);
    }
    // "all three", "both": a count alone, where the sentence or a clause ends.
    let ends = words
        .get(k)
        .is_none_or(|w| matches!(w.as_str(), "," | "please" | "thanks" | "and" | "then"));
    (k > i + 1 && words[i] == "all" && ends).then_some(k - i)
}

/// A count of two or more, as the lexicon's numbers say ("three", "a couple").
fn is_count(g: &Grammar, w: &str) -> bool {
    g.lexicon.numbers.get(w).is_some_and(|&n| n >= 2)
}

/// The same things said again at `i`, right after the phrase that named them: "clear the whole
/// table all of it", "the cubes go in the bin like all three of them", "the boxes um the boxes",
/// "the cans both cans". How many words to skip.
pub fn restatement_at(g: &Grammar, out: &[String], words: &[String], i: usize) -> Option<usize> {
    if !ends_with_things(g, out) {
        return None;
    }
    // "like all of them", "i mean both of them": a filler before it goes with it.
    let lead = if words[i] == "like" {
        1
    } else if phrase_at(words, i, &["i", "mean"]) || phrase_at(words, i, &["you", "know"]) {
        2
    } else {
        0
    };
    if let Some(n) = all_of_them_at(g, words, i + lead) {
        return Some(lead + n);
    }
    if lead > 0 {
        return None;
    }
    // The phrase just said, said again: from its determiner ("the boxes the boxes"), or with a
    // quantity word for its determiner ("the cans both cans", "the cubes all the cubes").
    let d = out
        .iter()
        .rposition(|w| DETERMINERS.contains(&w.as_str()) || w == ",")?;
    if out[d] == "," || d + 1 >= out.len() {
        return None;
    }
    let phrase = &out[d..];
    if words.len() >= i + phrase.len() && words[i..i + phrase.len()] == *phrase {
        return Some(phrase.len());
    }
    let noun = &out[d + 1..];
    let mut k = i;
    if !words
        .get(k)
        .is_some_and(|w| matches!(w.as_str(), "both" | "all"))
    {
        return None;
    }
    k += 1;
    if words.get(k).is_some_and(|w| is_count(g, w)) {
        k += 1;
    }
    if words.get(k).is_some_and(|w| w == "the") {
        k += 1;
    }
    (words.len() >= k + noun.len() && words[k..k + noun.len()] == *noun)
        .then_some(k + noun.len() - i)
}

/// Verbs that start a new order when said right after a finished phrase with no "and" ("put
/// everything in the bin except the cup and the can leave those two where they are"). Base
/// forms only: "everything left on the table" is not an order.
const IMPERATIVES: &[&str] = &[
    "leave", "put", "grab", "take", "pick", "bin", "keep", "move", "get", "toss", "place", "hold",
    "chuck", "ditch", "stick", "clear", "do",
];

/// Whether a clause ends before `i` though nothing marks it, as speech runs clauses together:
/// after a phrase that names things, an order ("... and the can leave those two where they
/// are"), "everything" ("clear the table everything in the bin", "do the rest of it everything
/// else in the bin too"), or, after a place
/// ("in the bin"), objects named without a determiner ("in the bin blue box first then the
/// cup"). A comma goes there, as a writer would put one.
pub fn unmarked_clause_break(g: &Grammar, out: &[String], words: &[String], i: usize) -> bool {
    if out.last().is_none_or(|w| w == ",") || !ends_with_things(g, out) {
        return false;
    }
    let w = words[i].as_str();
    // Only after a clause that was itself an order: "the cup the yellow one put that in the
    // bin" names its object first. And not before a particle: "I want the blocks put away".
    let order = IMPERATIVES.contains(&w)
        && out.iter().any(|o| g.verb(o).is_some())
        && words.get(i + 1).is_some_and(|n| {
            DETERMINERS.contains(&n.as_str())
                || matches!(n.as_str(), "it" | "them" | "everything" | "all" | "both")
        });
    // After a place just said ("... in the bin blue box first").
    let bare_objects = ends_with_place(g, out)
        && g.lexicon.color(w).is_some()
        && g.lexicon.class_at(words, i + 1).is_some();
    order || w == "everything" || bare_objects
}

/// "everything except the blue box", said alone: what stays is named, and the rest is cleared.
/// Whether to say "clear" before the "everything" at `i`: it opens the sentence (after
/// openers such as "okay so") and nothing after it asks for anything but leaving things.
pub fn bare_everything_except(g: &Grammar, out: &[String], words: &[String], i: usize) -> bool {
    if words[i] != "everything" {
        return false;
    }
    let opens = out.iter().all(|w| {
        matches!(
            w.as_str(),
            "," | "okay" | "ok" | "so" | "alright" | "well" | "right"
        )
    });
    let except = words
        .get(i + 1)
        .is_some_and(|w| matches!(w.as_str(), "except" | "but" | "excluding" | "besides"))
        || phrase_at(words, i + 1, &["apart", "from"])
        || phrase_at(words, i + 1, &["other", "than"]);
    let no_order = words[i + 1..]
        .iter()
        .all(|w| matches!(w.as_str(), "leave" | "keep" | "alone") || g.verb(w).is_none())
        && !words[i + 1..].iter().any(|w| {
            Grammar::is_form_of(w, &g.verbs.go_verbs) || Grammar::is_form_of(w, &g.verbs.stay_verbs)
        });
    opens && except && no_order
}

#[cfg(test)]
mod tests {
    use super::super::speech::clean;
    use super::*;

    fn c(text: &str) -> String {
        let g = Grammar::builtin();
        let words: Vec<String> = text.split_whitespace().map(str::to_string).collect();
        clean(&g, &words).join(" ")
    }

    #[test]
    fn a_phrase_begun_and_corrected_is_said_once() {
        assert_eq!(
            c("put the red no the orange cube in the bin"),
            "put the orange cube in the bin"
        );
        assert_eq!(
            c("put the big yellow i meant the pink cup away"),
            "put the pink cup away"
        );
        // A finished phrase is not a restart: the parser's corrections read it.
        assert_eq!(
            c("put the green can in the bin no wait the white can"),
            "put the green can in the bin , no wait the white can"
        );
        assert_eq!(
            c("put the green can in the bin no the white can"),
            "put the green can in the bin , no wait the white can"
        );
        // "no" that is not a take-back stays.
        assert_eq!(c("leave no cup on the table"), "leave no cup on the table");
    }

    #[test]
    fn the_same_things_said_again_are_said_once() {
        assert_eq!(
            c("all the cubes go in the bin all three of them"),
            "all the cubes go in the bin"
        );
        assert_eq!(
            c("clear the whole table all of it"),
            "clear the whole table"
        );
        assert_eq!(
            c("all four cubes go in the bin like all of them"),
            "all four cubes go in the bin"
        );
        assert_eq!(
            c("the boxes the boxes go in the bin"),
            "the boxes go in the bin"
        );
        assert_eq!(
            c("the cans both cans go in the bin"),
            "the cans go in the bin"
        );
        // Not after a verb: "put all of them in the bin" names what goes.
        assert_eq!(
            c("put all of them in the bin"),
            "put all of them in the bin"
        );
    }

    #[test]
    fn clauses_run_together_are_told_apart() {
        assert_eq!(
            c("put everything in the bin except the can leave it where it is"),
            "put everything in the bin except the can , leave it where it is"
        );
        assert_eq!(
            c("clear the table everything in the bin"),
            "clear the table , everything in the bin"
        );
        assert_eq!(
            c("put the blue box and the cup in the bin blue box first"),
            "put the blue box and the cup in the bin , blue box first"
        );
        // A participle is not an order; a phrase that goes on is not a clause.
        assert_eq!(
            c("put everything left on the table in the bin"),
            "put everything left on the table in the bin"
        );
        assert_eq!(c("the cups go in the bin"), "the cups go in the bin");
        assert_eq!(
            c("everything else on the table can go in the bin"),
            "everything else on the table can go in the bin"
        );
        assert_eq!(
            c("bin everything except the blue box"),
            "bin everything except the blue box"
        );
        assert!(!c("scratch that , bin everything that is not red").contains("bin , everything"));
        assert_eq!(
            c("lift it up so i can take a closer look"),
            "lift it up so i can take a closer look"
        );
        assert_eq!(
            c("the cup the yellow one put that in the bin"),
            "the cup the yellow one put that in the bin"
        );
        assert_eq!(
            c("i want the red blocks put away in the bin"),
            "i want the red blocks put away in the bin"
        );
    }

    #[test]
    fn everything_except_said_alone_clears_the_rest() {
        assert_eq!(
            c("everything except the blue box"),
            "clear everything except the blue box"
        );
        assert_eq!(
            c("okay so everything except the boxes leave the boxes alone"),
            "okay so clear everything except the boxes , leave the boxes alone"
        );
        assert_eq!(
            c("everything except the cup goes in the bin"),
            "everything except the cup goes in the bin"
        );
    }
}
