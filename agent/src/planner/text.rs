//! Requests as words: lower case, contractions expanded, sentences split, commas kept as tokens.

/// The sentences of a request, each a list of words; a comma is its own word (",").
pub fn sentences(text: &str) -> Vec<Vec<String>> {
    // "clear table -> bin", "the box + the can", "cups & cans": shorthand for words.
    let lowered = text
        .to_lowercase()
        .replace(['\u{2019}', '\u{2018}', '`'], "'")
        .replace("->", " into ")
        .replace('\u{2192}', " into ")
        .replace(['+', '&'], " and ");
    let mut out = Vec::new();
    for sentence in lowered.split(['.', '?', '!', ';', ':', '\n']) {
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
        while words.first().is_some_and(|w| w == ",") {
            words.remove(0);
        }
        while words.last().is_some_and(|w| w == ",") {
            words.pop();
        }
        if !words.is_empty() {
            out.push(words);
        }
    }
    out
}

/// Expands an English contraction into its words ("isn't" -> "is not", "table's" -> "table is").
fn expand(word: &str) -> Vec<String> {
    let fixed: &[(&str, &[&str])] = &[
        ("can't", &["can", "not"]),
        ("cannot", &["can", "not"]),
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
