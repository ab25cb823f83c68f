//! Requests as words: lower case, contractions expanded, sentences split, commas kept as tokens.

/// The sentences of a request, each a list of words; a comma is its own word (",").
/// Dictation that spells its punctuation out ("the green can comma then the white can
/// period"): the marks themselves, line by line.
fn spoken_punctuation(text: &str) -> String {
    const MARKS: &[(&[&str], &str)] = &[
        (&["comma"], ","),
        (&["period"], "."),
        (&["full", "stop"], "."),
        (&["question", "mark"], "?"),
        (&["exclamation", "mark"], "!"),
        (&["exclamation", "point"], "!"),
        (&["semicolon"], ";"),
        (&["new", "line"], "\n"),
    ];
    let lines: Vec<String> = text
        .split('\n')
        .map(|line| {
            let words: Vec<&str> = line.split(' ').collect();
            let mut out: Vec<&str> = Vec::with_capacity(words.len());
            let mut i = 0;
            while i < words.len() {
                let bare = |w: &str| w.trim_matches(|c: char| !c.is_alphanumeric()).to_string();
                let mark = MARKS.iter().find(|(said, _)| {
                    words.len() >= i + said.len()
                        && said
                            .iter()
                            .enumerate()
                            .all(|(k, s)| bare(words[i + k]) == *s)
                });
                match mark {
                    Some((said, mark)) => {
                        out.push(mark);
                        i += said.len();
                    }
                    None => {
                        out.push(words[i]);
                        i += 1;
                    }
                }
            }
            out.join(" ")
        })
        .collect();
    lines.join("\n")
}

pub fn sentences(text: &str) -> Vec<Vec<String>> {
    // "clear table -> bin", "the box + the can", "cups & cans": shorthand for words.
    let lowered = text
        .to_lowercase()
        .replace(['\u{2019}', '\u{2018}', '`'], "'")
        .replace("->", " into ")
        .replace('\u{2192}', " into ")
        .replace(['+', '&'], " and ");
    let lowered = list_markers_as_breaks(&lowered);
    let lowered = spoken_punctuation(&lowered);
    let mut out = Vec::new();
    for sentence in lowered.split_inclusive(['.', '?', '!', ';', ':', '\n']) {
        // A sentence that ends with a colon introduces what follows ("Checklist:", "bin:"): it
        // keeps the colon as its last word, for the parser to read it as a heading or not.
        let (sentence, heading) = match sentence.strip_suffix(':') {
            Some(s) => (s, true),
            None => (sentence.trim_end_matches(['.', '?', '!', ';', '\n']), false),
        };
        let mut words = Vec::new();
        for raw in sentence
            .replace(',', " , ")
            .replace(['-', '/', '_'], " ")
            .split_whitespace()
        {
            for w in expand(raw) {
                let w: String = w
                    .chars()
                    .filter(|c| c.is_alphanumeric() || *c == ',' || *c == '\'')
                    .collect();
                let w = w.trim_matches('\'').to_string();
                if !w.is_empty() {
                    words.push(w);
                }
            }
        }
        // "the mug's been sitting there", "it's got a chip": "has", not "is", before these.
        for k in 1..words.len() {
            if words[k - 1] == "is" && matches!(words[k].as_str(), "been" | "got" | "gotten") {
                words[k - 1] = "has".into();
            }
        }
        while words.first().is_some_and(|w| w == ",") {
            words.remove(0);
        }
        while words.last().is_some_and(|w| w == ",") {
            words.pop();
        }
        if !words.is_empty() {
            if heading {
                words.push(":".into());
            }
            out.push(words);
        }
    }
    out
}

/// The items of a list as sentences of their own: "1) the can 2) the cup", "1. the can 2. the
/// cup", "(1) ...", and dashes or bullets that start an item ("- both red cubes - the white
/// can"). A number counts as a marker only right after the start, a space or a colon and
/// right before a space, so "2.5 cm" and "bench 2" stay as they are; a dash only with a space
/// after it (a hyphen joins words: "right-hand").
fn list_markers_as_breaks(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < c.len() {
        let at_start = i == 0 || c[i - 1].is_whitespace() || c[i - 1] == ':';
        if at_start {
            let open = usize::from(c[i] == '(');
            let mut j = i + open;
            while j < c.len() && c[j].is_ascii_digit() && j - i - open < 2 {
                j += 1;
            }
            let digits = j > i + open;
            let closed = j < c.len() && (c[j] == ')' || (open == 0 && c[j] == '.'));
            if digits && closed && c.get(j + 1).is_none_or(|n| n.is_whitespace()) {
                out.push('\n');
                i = j + 1;
                continue;
            }
            let bullet = matches!(c[i], '-' | '*' | '\u{2022}' | '\u{2013}' | '\u{2014}');
            if bullet && c.get(i + 1).is_some_and(|n| n.is_whitespace()) {
                out.push('\n');
                i += 1;
                continue;
            }
        }
        out.push(c[i]);
        i += 1;
    }
    out
}

/// Whether `phrase` is said at `words[i..]`, word for word.
pub fn phrase_at(words: &[String], i: usize, phrase: &[&str]) -> bool {
    phrase
        .iter()
        .enumerate()
        .all(|(k, x)| words.get(i + k).is_some_and(|w| w == x))
}

/// Letters held for emphasis ("pleeease", "sooo"): a run of three or more of one letter as
/// one and as two ("please", "soo"), for the caller to keep whichever it knows.
pub fn unstretched(word: &str) -> Option<[String; 2]> {
    let c: Vec<char> = word.chars().collect();
    if !c.windows(3).any(|w| w[0] == w[1] && w[1] == w[2]) {
        return None;
    }
    let squeeze = |keep: usize| -> String {
        let mut s = String::new();
        let mut run = 0;
        for (k, ch) in c.iter().enumerate() {
            run = if k > 0 && c[k - 1] == *ch { run + 1 } else { 1 };
            // A run of two stays two; a run of three or more keeps `keep`.
            let long = c[k.saturating_sub(run - 1)..]
                .iter()
                .take_while(|x| *x == ch)
                .count()
                >= 3;
            if !long || run <= keep {
                s.push(*ch);
            }
        }
        s
    };
    Some([squeeze(1), squeeze(2)])
}

/// Expands an English contraction into its words ("isn't" -> "is not", "table's" -> "table is"),
/// also as typed without the apostrophe ("dont", "thats"; never one that is a word of its own:
/// "its", "ill", "wed", "were", "id", "hell", "shell").
fn expand(word: &str) -> Vec<String> {
    let fixed: &[(&str, &[&str])] = &[
        ("can't", &["can", "not"]),
        ("cant", &["can", "not"]),
        ("cannot", &["can", "not"]),
        ("dont", &["do", "not"]),
        ("doesnt", &["does", "not"]),
        ("didnt", &["did", "not"]),
        ("isnt", &["is", "not"]),
        ("arent", &["are", "not"]),
        ("wasnt", &["was", "not"]),
        ("werent", &["were", "not"]),
        ("couldnt", &["could", "not"]),
        ("wouldnt", &["would", "not"]),
        ("shouldnt", &["should", "not"]),
        ("havent", &["have", "not"]),
        ("hasnt", &["has", "not"]),
        ("wont", &["will", "not"]),
        ("thats", &["that", "is"]),
        ("whats", &["what", "is"]),
        ("theres", &["there", "is"]),
        ("heres", &["here", "is"]),
        ("im", &["i", "am"]),
        ("ive", &["i", "have"]),
        ("youre", &["you", "are"]),
        ("theyre", &["they", "are"]),
        ("youll", &["you", "will"]),
        ("y'all", &["you"]),
        ("yall", &["you"]),
        ("ya", &["you"]),
        ("won't", &["will", "not"]),
        ("shan't", &["shall", "not"]),
        ("let's", &["let", "us"]),
        ("i'm", &["i", "am"]),
        ("ain't", &["is", "not"]),
        ("'em", &["them"]),
    ];
    if let Some((_, words)) = fixed.iter().find(|(c, _)| *c == word) {
        return words.iter().map(|w| w.to_string()).collect();
    }
    for (suffix, tail) in [
        ("n't", "not"),
        ("'re", "are"),
        ("'ve", "have"),
        ("'ll", "will"),
        ("'d", "would"),
        ("'s", "is"),
    ] {
        if let Some(stem) = word.strip_suffix(suffix) {
            if !stem.is_empty() {
                return vec![stem.to_string(), tail.to_string()];
            }
        }
    }
    vec![word.to_string()]
}

/// Irregular past forms and participles, with their base forms.
pub(super) const IRREGULAR: &[(&str, &str)] = &[
    ("thrown", "throw"),
    ("threw", "throw"),
    ("taken", "take"),
    ("took", "take"),
    ("got", "get"),
    ("gotten", "get"),
    ("kept", "keep"),
    ("held", "hold"),
    ("brought", "bring"),
    ("broken", "break"),
    ("broke", "break"),
    ("struck", "strike"),
    ("gave", "give"),
    ("given", "give"),
    ("swept", "sweep"),
    ("flung", "fling"),
    ("shaken", "shake"),
    ("torn", "tear"),
    ("bent", "bend"),
];

/// Base forms a word may be an inflection of: "binning" -> "bin", "tidied" -> "tidy",
/// "places" -> "place". The caller checks which of them are known.
pub fn base_forms(word: &str) -> Vec<String> {
    let mut out = vec![word.to_string()];
    if let Some((_, base)) = IRREGULAR.iter().find(|(w, _)| *w == word) {
        out.push(base.to_string());
    }
    // "binn" -> "bin"; by characters, so no multi-byte character is ever split.
    let undouble = |s: &str| -> Option<String> {
        let c: Vec<char> = s.chars().collect();
        (c.len() >= 3 && c[c.len() - 1] == c[c.len() - 2])
            .then(|| c[..c.len() - 1].iter().collect())
    };
    for suffix in ["ing", "ed"] {
        if let Some(stem) = word.strip_suffix(suffix) {
            if stem.len() >= 2 {
                out.push(stem.to_string());
                out.push(format!("{stem}e"));
                out.extend(undouble(stem));
            }
        }
    }
    if let Some(stem) = word.strip_suffix("ied") {
        out.push(format!("{stem}y"));
    }
    if let Some(stem) = word.strip_suffix("ies") {
        out.push(format!("{stem}y"));
    }
    if let Some(stem) = word.strip_suffix("es") {
        out.push(stem.to_string());
    }
    if let Some(stem) = word.strip_suffix('s') {
        if !stem.ends_with('s') {
            out.push(stem.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_sentences_and_expands_contractions() {
        assert_eq!(
            sentences(
                "The table's a mess. Put the cubes in the bin, please!  Don't touch the cup?"
            ),
            vec![
                vec!["the", "table", "is", "a", "mess"],
                vec!["put", "the", "cubes", "in", "the", "bin", ",", "please"],
                vec!["do", "not", "touch", "the", "cup"],
            ]
        );
        assert_eq!(
            sentences("everything that isn't a box"),
            vec![vec!["everything", "that", "is", "not", "a", "box"]]
        );
        assert!(sentences("  ,. ?").is_empty());
        assert_eq!(
            sentences("dont bin it, thats mine. the mug's been there"),
            vec![
                vec!["do", "not", "bin", "it", ",", "that", "is", "mine"],
                vec!["the", "mug", "has", "been", "there"],
            ]
        );
    }

    #[test]
    fn a_sentence_before_a_colon_keeps_it() {
        assert_eq!(
            sentences("Checklist: bin: the can"),
            vec![vec!["checklist", ":"], vec!["bin", ":"], vec!["the", "can"]]
        );
    }

    #[test]
    fn list_items_are_sentences() {
        let s = |t: &str| -> Vec<String> { sentences(t).iter().map(|s| s.join(" ")).collect() };
        assert_eq!(
            s("Checklist: 1. green can 2. nearer cup 3) the box"),
            ["checklist :", "green can", "nearer cup", "the box"]
        );
        assert_eq!(
            s("list for bench 2: - both red cubes - the white can"),
            ["list for bench 2 :", "both red cubes", "the white can"]
        );
        // Not markers: a decimal, a number inside a sentence, a hyphen.
        assert_eq!(s("move it 2.5 cm"), ["move it 2", "5 cm"]);
        assert_eq!(s("the right-hand cup"), ["the right hand cup"]);
        assert_eq!(s("(1) the can (2) the cup"), ["the can", "the cup"]);
    }

    #[test]
    fn stretched_letters_are_squeezed() {
        assert_eq!(
            unstretched("pleeease"),
            Some(["please".to_string(), "pleease".to_string()])
        );
        assert_eq!(
            unstretched("alllll"),
            Some(["al".to_string(), "all".to_string()])
        );
        assert_eq!(unstretched("cool"), None);
    }

    #[test]
    fn multi_byte_words_are_never_split() {
        for w in ["\u{820}\u{820}ing", "ééed", "ññs", "日本ies"] {
            let _ = base_forms(w);
        }
    }

    #[test]
    fn finds_base_forms() {
        assert!(base_forms("binning").contains(&"bin".to_string()));
        assert!(base_forms("tidied").contains(&"tidy".to_string()));
        assert!(base_forms("placing").contains(&"place".to_string()));
        assert!(base_forms("boxes").contains(&"box".to_string()));
        assert!(base_forms("cleared").contains(&"clear".to_string()));
    }
}
