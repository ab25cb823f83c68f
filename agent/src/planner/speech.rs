//! Spoken language cleaned up before parsing: hesitations dropped ("put the, um, the cup
//! away"), a determiner said twice said once, and phrases learners of English use read as the
//! grammar's ("more near" as "nearer"). The safety screen has already read the raw words, so
//! nothing dropped here can hide an unsafe request.

use super::grammar::Grammar;
use super::restate;
use super::text::phrase_at;

pub(super) const DETERMINERS: &[&str] = &["the", "a", "an", "this", "that", "these", "those", "my"];

/// Hesitation words that are never anything else; others ("like", "i mean") only count as
/// hesitation between commas (or a comma and the sentence's start or end).
const ALWAYS: &[&str] = &[
    "um", "umm", "uh", "uhh", "uhm", "er", "erm", "hmm", "hm", "ah", "eh",
];

/// Intensifiers that change nothing a plan depends on ("it absolutely has to stay", "I really
/// need the cup"): dropped wherever they stand.
const INTENSIFIERS: &[&str] = &[
    "absolutely",
    "definitely",
    "really",
    "totally",
    "certainly",
    "truly",
    "simply",
];

/// Words a person calls the one they talk to ("..., love?", "mate, bin the can"): dropped when
/// they stand alone between commas or a comma and the sentence's start or end, where they
/// name nothing ("the baby blue cup" and "give it to the boss" keep theirs). ("robot, ..." is
/// not among them: the parser reads it as the request turning to the robot.)
const VOCATIVES: &[&[&str]] = &[
    &["love"],
    &["luv"],
    &["darling"],
    &["sweetheart"],
    &["sweetie"],
    &["honey"],
    &["hon"],
    &["hun"],
    &["babe"],
    &["baby"],
    &["pal"],
    &["mate"],
    &["buddy"],
    &["bud"],
    &["chief"],
    &["chef"],
    &["boss"],
    &["captain"],
    &["cap"],
    &["agent"],
    &["team"],
    &["people"],
    &["folks"],
    &["friend"],
    &["my", "friend"],
    &["my", "dear"],
    &["my", "love"],
    &["old", "chap"],
    &["old", "friend"],
    &["dear"],
    &["man"],
    &["dude"],
    &["bro"],
    &["sir"],
    &["madam"],
    &["maam"],
    &["ma'am"],
    &["champ"],
    &["sunshine"],
    &["kiddo"],
    &["guys"],
    &["folks"],
    &["team"],
    &["everyone"],
    &["everybody"],
    &["lad"],
    &["lads"],
    &["young", "man"],
];

/// The length of a vocative standing alone at `i` (see `VOCATIVES`), if one does.
fn vocative_at(before: Option<&String>, words: &[String], i: usize) -> Option<usize> {
    if before.is_some_and(|w| w != ",") {
        return None;
    }
    VOCATIVES.iter().find_map(|v| {
        let alone = words.get(i + v.len()).is_none_or(|w| w == ",");
        (phrase_at(words, i, v) && alone).then_some(v.len())
    })
}

/// How "nothing ... should stay" may end.
const STAYS: &[&[&str]] = &[
    &["should", "stay"],
    &["should", "remain"],
    &["should", "be", "left"],
    &["can", "stay"],
    &["may", "stay"],
    &["is", "to", "stay"],
    &["stays"],
    &["remains"],
];

/// "put the red cube on the left in the bin, just that one": the one just named, no more. Dropped
/// only where it ends the sentence or a clause ("no wait, just the one on the right" names one).
const JUST_THAT_ONE: &[&[&str]] = &[
    &[",", "just", "that", "one"],
    &[",", "only", "that", "one"],
    &[",", "just", "the", "one"],
    &[",", "that", "one", "only"],
    &[",", "only", "the", "one"],
    &[",", "just", "this", "one"],
    &[",", "only", "this", "one"],
    &[",", "that", "one", "and", "no", "other"],
];

/// The length of a "just that one" at `i` that ends what it follows.
fn just_that_one_at(words: &[String], i: usize) -> Option<usize> {
    JUST_THAT_ONE.iter().find_map(|p| {
        let ends = words
            .get(i + p.len())
            .is_none_or(|w| matches!(w.as_str(), "," | "please" | "thanks"));
        (phrase_at(words, i, p) && ends).then_some(p.len())
    })
}

/// The word for a count written in digits, one to ten.
fn number_word(w: &str) -> Option<&'static str> {
    const WORDS: [&str; 10] = [
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    let n: usize = w.parse().ok()?;
    (1..=10).contains(&n).then(|| WORDS[n - 1])
}

/// The first word at or after `i` that is not a hesitation ("so um can you ...").
fn after_hesitation(words: &[String], mut i: usize) -> usize {
    while words
        .get(i)
        .is_some_and(|w| ALWAYS.contains(&w.as_str()) || w == "like")
    {
        i += 1;
    }
    i
}

/// Whether `w` opens an order: one of the planner's verbs, or what asks before one ("please",
/// "do not", "just", "could you").
fn opens_order(g: &Grammar, words: &[String], at: usize) -> bool {
    let Some(w) = words.get(at) else {
        return false;
    };
    g.verb(w).is_some()
        || g.verbs.stay_verbs.iter().any(|s| s == w)
        || matches!(
            w.as_str(),
            "please" | "just" | "kindly" | "could" | "can" | "would" | "will"
        )
        || (w == "do" && words.get(at + 1).is_some_and(|n| n == "not"))
        // "so first grab the white can": an order word, then the order.
        || (matches!(w.as_str(), "first" | "then" | "now" | "also")
            && words.get(at + 1).is_some_and(|n| g.verb(n).is_some()))
}

/// "my son's red blocks", "grandma's cup": a person's, where "'s" (read as "is" when the
/// contraction was expanded) is followed by what names an object. The possessor goes: the
/// object is the one named ("the red blocks"). "my kid's watching" keeps its "is".
fn possessive_at(g: &Grammar, words: &[String], i: usize) -> bool {
    let person = |w: &str| {
        g.safety.people_words.iter().any(|p| p == w)
            && !matches!(
                w,
                "me" | "us" | "him" | "her" | "someone" | "somebody" | "anyone" | "anybody"
            )
    };
    words.get(i).is_some_and(|w| person(w))
        && words.get(i + 1).is_some_and(|w| w == "is")
        && (g.lexicon.color_or_noun_at(words, i + 2)
            || words
                .get(i + 2)
                .is_some_and(|w| g.lexicon.color_before_noun.contains_key(w)))
}

/// "it's the cubes that go in the bin", "it is only the red cube which needs to go": a cleft
/// sentence, said plainly ("the cubes go in the bin"). The length of the "it is" and the
/// position of its "that", when one is at `i`.
fn cleft_at(g: &Grammar, words: &[String], i: usize) -> Option<usize> {
    if !(words.get(i).is_some_and(|w| w == "it") && words.get(i + 1).is_some_and(|w| w == "is")) {
        return None;
    }
    let lex = &g.lexicon;
    let that = (i + 3..words.len().min(i + 10))
        .find(|&k| matches!(words[k].as_str(), "that" | "which"))?;
    let names =
        (i + 2..that).any(|k| lex.class_at(words, k).is_some() || lex.color(&words[k]).is_some());
    let plain = (i + 2..that).all(|k| words[k] != "," && g.verb(&words[k]).is_none());
    let then = words.get(that + 1).is_some_and(|w| {
        Grammar::is_form_of(w, &g.verbs.go_verbs)
            || Grammar::is_form_of(w, &g.verbs.stay_verbs)
            || matches!(
                w.as_str(),
                "should" | "can" | "must" | "needs" | "need" | "has" | "have" | "is" | "are"
            )
    });
    (names && plain && then).then_some(that)
}

/// "keep the orange cube in your hand": kept in the gripper, not left where it is. Where the
/// hand is said and where it ends, when "keep" at `i` names objects then a hand.
fn keep_in_hand_at(g: &Grammar, words: &[String], i: usize) -> Option<(usize, usize)> {
    if words.get(i).is_none_or(|w| w != "keep") {
        return None;
    }
    const HANDS: [&[&str]; 6] = [
        &["in", "your", "hand"],
        &["in", "your", "hands"],
        &["in", "your", "gripper"],
        &["in", "the", "gripper"],
        &["in", "hand"],
        &["in", "your", "grip"],
    ];
    let at = (i + 2..words.len().min(i + 8)).find(|&k| words[k] == "in")?;
    let names = (i + 1..at)
        .any(|k| g.lexicon.class_at(words, k).is_some() || g.lexicon.color(&words[k]).is_some())
        || (at == i + 2 && matches!(words[i + 1].as_str(), "it" | "that" | "this"));
    let plain = (i + 1..at).all(|k| words[k] != "," && g.verb(&words[k]).is_none());
    let n = HANDS
        .iter()
        .find_map(|h| phrase_at(words, at, h).then_some(h.len()))?;
    (names && plain).then_some((at, at + n))
}

/// One sentence's words, cleaned.
pub fn clean(g: &Grammar, words: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        if let Some((keep, n)) = restate::restart_at(g, &out, words, i) {
            out.truncate(keep);
            i += n;
            continue;
        }
        if let Some((said, n)) = restate::unpunctuated_take_back(&out, words, i) {
            out.extend(said);
            i += n;
            continue;
        }
        if let Some(n) = restate::restatement_at(g, &out, words, i) {
            i += n;
            continue;
        }
        if restate::unmarked_clause_break(g, &out, words, i) {
            out.push(",".into());
        }
        if restate::bare_everything_except(g, &out, words, i) {
            out.push("clear".into());
        }
        // "the red cube is part of his project so leave it alone": "so" before an order
        // starts a clause of its own, as after a comma.
        if words[i] == "so"
            && out.len() >= 3
            && out
                .last()
                .is_some_and(|p| !matches!(p.as_str(), "," | "and" | "or" | "if" | "not"))
            && opens_order(g, words, after_hesitation(words, i + 1))
        {
            out.push(",".into());
        }
        if possessive_at(g, words, i) {
            if out.last().is_some_and(|p| {
                matches!(
                    p.as_str(),
                    "my" | "our" | "your" | "his" | "her" | "their" | "the" | "a"
                )
            }) {
                out.pop();
            }
            out.push("the".into());
            i += 2;
            continue;
        }
        if out.last().is_none_or(|p| p == ",") {
            if let Some(that) = cleft_at(g, words, i) {
                out.extend(words[i + 2..that].iter().cloned());
                i = that + 1;
                continue;
            }
        }
        // "..., nothing else on this desk": where the rest is, said of what stays.
        if matches!(out.as_slice(), [.., a, b] if a == "nothing" && matches!(b.as_str(), "else" | "more"))
            && matches!(words[i].as_str(), "on" | "from" | "off")
        {
            let mut k = i + 1;
            if words
                .get(k)
                .is_some_and(|w| matches!(w.as_str(), "the" | "this" | "that" | "your" | "my"))
            {
                k += 1;
            }
            if let Some(n) = g.lexicon.table.at(words, k) {
                i = k + n;
                continue;
            }
        }
        // "the blue box, put him in the trash": a learner's "him" or "her" for an object.
        if matches!(words[i].as_str(), "him" | "her")
            && out.last().is_some_and(|p| g.verb(p).is_some())
            && words
                .get(i + 1)
                .is_some_and(|n| matches!(n.as_str(), "in" | "into" | "inside"))
        {
            out.push("it".into());
            i += 1;
            continue;
        }
        if let Some((hand, end)) = keep_in_hand_at(g, words, i) {
            out.push("hold".into());
            out.extend(words[i + 1..hand].iter().cloned());
            i = end;
            continue;
        }
        // "don't put it in the bin yet": "yet" ending a clause says when, and the arm has no
        // later.
        if words[i] == "yet" && words.get(i + 1).is_none_or(|w| w == ",") && !out.is_empty() {
            i += 1;
            continue;
        }
        // "Careful, the white can is full": a warning word alone before a comma opening the
        // sentence (the warning itself is read on).
        if out.is_empty()
            && matches!(words[i].as_str(), "careful" | "caution" | "heads")
            && words.get(i + 1).is_some_and(|w| w == ",")
        {
            i += 2;
            continue;
        }
        // "it's all sticky", "they are all wet": "all" before a state word says how much of
        // it, not which objects ("that is all", "they are all in the bin" keep it).
        if words[i] == "all"
            && out
                .last()
                .is_some_and(|p| matches!(p.as_str(), "is" | "are" | "was" | "were"))
            && words.get(i + 1).is_some_and(|n| {
                n.chars().all(char::is_alphabetic)
                    && !DETERMINERS.contains(&n.as_str())
                    && !matches!(
                        n.as_str(),
                        "of" | "in"
                            | "into"
                            | "on"
                            | "off"
                            | "inside"
                            | "out"
                            | "away"
                            | "gone"
                            | "done"
                            | "set"
                            | "ready"
                            | "there"
                            | "here"
                            | "clear"
                            | "cleared"
                            | "that"
                            | "we"
                            | "i"
                            | "you"
                            | "for"
                            | "right"
                            | "good"
                            | "fine"
                    )
                    && g.verb(n).is_none()
                    && g.lexicon.color(n).is_none()
                    && g.lexicon.class_at(words, i + 1).is_none()
            })
        {
            i += 1;
            continue;
        }
        if INTENSIFIERS.contains(&words[i].as_str()) {
            i += 1;
            continue;
        }
        if let Some(n) = g.disfluencies.at(words, i) {
            let edge_before = out.last().is_none_or(|w| w == ",");
            let edge_after = words.get(i + n).is_none_or(|w| w == ",");
            // "can you like put the can away": a filler right before the request's verb
            // (but "would like", "I'd like to").
            // Likewise before the request's politeness ("um so like could you grab ...").
            let before_verb = (words.get(i + n).is_some_and(|w| g.verb(w).is_some())
                || g.fillers.at(words, i + n).is_some()
                || (out.last().is_some_and(|p| p == "so") && opens_order(g, words, i + n)))
                && out
                    .last()
                    .is_none_or(|p| !matches!(p.as_str(), "would" | "i" | "we" | "they"));
            // "... away and like the white tin too": a filler between "and" and an object.
            let in_list = out
                .last()
                .is_some_and(|p| matches!(p.as_str(), "and" | "or"))
                && words
                    .get(i + n)
                    .is_some_and(|w| DETERMINERS.contains(&w.as_str()));
            // "the pink cup you know in the bin": an aside anywhere, but not "do you know",
            // "you know how ...", nor before a phrase it introduces ("the green can, you know,
            // the farther one").
            let aside = phrase_at(words, i, &["you", "know"])
                && out.last().is_none_or(|p| {
                    !matches!(p.as_str(), "do" | "does" | "did" | "if" | "whether" | "as")
                })
                && words.get(i + 2).is_none_or(|w| {
                    !matches!(
                        w.as_str(),
                        "how"
                            | "what"
                            | "where"
                            | "which"
                            | "whether"
                            | "if"
                            | "that"
                            | "who"
                            | "why"
                            | "when"
                            | "the"
                            | "a"
                            | "an"
                            | "this"
                            | "those"
                            | "these"
                    )
                });
            if (n == 1 && ALWAYS.contains(&words[i].as_str()))
                || aside
                || (edge_before && edge_after)
                || before_verb
                || in_list
            {
                i += n;
                continue;
            }
        }
        // "the 2 cubes", "all 3 cans": a count in digits before what it counts, as a word
        // ("guests at 7" stays: a clock time).
        if let Some(word) = number_word(&words[i]) {
            let counts = words.get(i + 1).is_some_and(|n| {
                g.lexicon.class_at(words, i + 1).is_some() || g.lexicon.color(n).is_some()
            });
            if counts {
                // "the 1 cup" is the cup.
                let one_after_det = word == "one"
                    && out
                        .last()
                        .is_some_and(|p| DETERMINERS.contains(&p.as_str()));
                if !one_after_det {
                    out.push(word.to_string());
                }
                i += 1;
                continue;
            }
        }
        // "Nothing red should stay on this table": everything red goes.
        if words[i] == "nothing" && out.iter().all(|w| w == ",") {
            if let Some((j, n)) = (i + 1..words.len().min(i + 6)).find_map(|j| {
                STAYS
                    .iter()
                    .find_map(|st| phrase_at(words, j, st).then_some((j, st.len())))
            }) {
                out.push("everything".into());
                out.extend(words[i + 1..j].iter().cloned());
                out.push("goes".into());
                i = j + n;
                // ("... on this table": where it would have stayed.)
                if words.get(i).is_some_and(|w| w == "on")
                    && words
                        .get(i + 1)
                        .is_some_and(|w| matches!(w.as_str(), "the" | "this"))
                    && words
                        .get(i + 2)
                        .is_some_and(|w| g.lexicon.table.contains_word(w))
                {
                    i += 3;
                }
                continue;
            }
        }
        // "wow amazing table. so clean.": an exclamation about the table, standing alone, not
        // the verb "clean".
        if out.last().is_none_or(|p| p == ",")
            && matches!(
                words[i].as_str(),
                "so" | "very" | "too" | "how" | "super" | "soo" | "sooo" | "such" | "quite"
            )
            && words.get(i + 1).is_some_and(|w| {
                matches!(
                    w.as_str(),
                    "clean" | "clear" | "tidy" | "neat" | "empty" | "messy" | "cluttered"
                )
            })
            && words.get(i + 2).is_none_or(|w| w == ",")
        {
            i += 2;
            continue;
        }
        // "Chef here, ...", "Mum here.": who is speaking, at the start.
        if i == 0
            && words.get(1).is_some_and(|w| w == "here")
            && words.get(2).is_none_or(|w| w == ",")
            && (!g.knows(&words[0]) || g.safety.people_words.contains(&words[0]))
        {
            i += 2;
            continue;
        }
        // "... and put it in the bin. Only that one.": the same, as a sentence of its own.
        if i == 0 {
            if let Some(n) = JUST_THAT_ONE
                .iter()
                .map(|p| &p[1..])
                .find(|p| phrase_at(words, 0, p) && words.len() == p.len())
                .map(|p| p.len())
            {
                i += n;
                continue;
            }
        }
        if let Some(n) = just_that_one_at(words, i) {
            i += n;
            continue;
        }
        if let Some(n) = vocative_at(out.last(), words, i) {
            i += n;
            continue;
        }
        if let Some((to, n)) = g.rewrites.at(words, i) {
            out.extend(to);
            i += n;
            continue;
        }
        out.push(words[i].clone());
        i += 1;
    }
    // Commas left alone or doubled by what was dropped; "the, the cup" -> "the cup".
    let mut tidy: Vec<String> = Vec::with_capacity(out.len());
    for w in out {
        // No comma follows a determiner: "in the, uh, bin" -> "in the bin".
        if w == ","
            && tidy
                .last()
                .is_none_or(|p| p == "," || DETERMINERS.contains(&p.as_str()))
        {
            continue;
        }
        if DETERMINERS.contains(&w.as_str()) {
            let mut paused = false;
            while tidy.last().is_some_and(|p| p == ",")
                && tidy
                    .len()
                    .checked_sub(2)
                    .is_some_and(|k| DETERMINERS.contains(&tidy[k].as_str()))
            {
                tidy.pop();
                paused = true;
            }
            // "the the cup", "a the cup", "the, the cup"; but "after that the rest": a
            // pronoun, then a determiner.
            if tidy.last().is_some_and(|p| {
                DETERMINERS.contains(&p.as_str())
                    && (paused || p == &w || matches!(p.as_str(), "the" | "a" | "an"))
            }) {
                tidy.pop();
            }
        }
        tidy.push(w);
    }
    while tidy.last().is_some_and(|w| w == ",") {
        tidy.pop();
    }
    tidy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filler_right_before_the_verb_is_dropped() {
        assert_eq!(
            c("can you like put the cup away"),
            "can you put the cup away"
        );
        assert_eq!(c("i would like put"), "i would like put");
        assert_eq!(c("i like the cup"), "i like the cup");
    }

    fn c(text: &str) -> String {
        let g = Grammar::builtin();
        let words: Vec<String> = text.split_whitespace().map(str::to_string).collect();
        clean(&g, &words).join(" ")
    }

    #[test]
    fn hesitations_go_and_real_words_stay() {
        assert_eq!(
            c("put the , like , the white cans away , um , both of them"),
            "put the white cans away , both of them"
        );
        assert_eq!(c("um , so , grab the , uh , the cup"), "so , grab the cup");
        // "like" as a verb is not hesitation.
        assert_eq!(
            c("i would like the cup in the bin"),
            "i would like the cup in the bin"
        );
        assert_eq!(c("the one more near to you"), "the one nearer to you");
        assert_eq!(c("put the cup in the , uh , bin"), "put the cup in the bin");
        assert_eq!(c("after that the rest"), "after that the rest");
        assert_eq!(c("put the the cup away"), "put the cup away");
        assert_eq!(
            c("put the 2 cubes and 1 can away"),
            "put the two cubes and one can away"
        );
        assert_eq!(c("guests at 7"), "guests at 7");
        assert_eq!(c("put the 1 cup away"), "put the cup away");
        assert_eq!(
            c("nothing red should stay on this table"),
            "everything red goes"
        );
    }

    #[test]
    fn a_name_for_the_listener_goes_only_where_it_stands_alone() {
        assert_eq!(
            c("put the cubes in the bin , love"),
            "put the cubes in the bin"
        );
        assert_eq!(c("mate , bin the can"), "bin the can");
        assert_eq!(
            c("bin the can , my friend , thanks"),
            "bin the can , thanks"
        );
        assert_eq!(c("bin the baby blue cup"), "bin the baby blue cup");
        assert_eq!(c("give it to the boss"), "give it to the boss");
        assert_eq!(c("i love the cup , leave it"), "i love the cup , leave it");
    }
}
