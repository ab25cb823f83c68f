//! Object references: determiners and quantities, adjectives and the head noun, and what may
//! follow it (relative clauses, sides, distances, relations to other objects).

use super::super::grammar::Grammar;
use super::{ContainerRef, Item, ParseError, Parser, Quantity, Rank, Ref, CONNECTORS};

impl<'a> Parser<'a> {
    /// A list of items: "the red cube, the cups and anything blue".
    pub(super) fn items(&mut self, start: usize) -> Result<Vec<Item>, ParseError> {
        let mut out = vec![self.item().map_err(|e| self.fix_error(e, start))?];
        // What `list_then` found from each item's start, for the next comma's probe.
        let mut lists_read = std::collections::HashMap::new();
        loop {
            let save = self.i;
            // "the white can, no wait, the green can": the item after a correction replaces
            // the one before it.
            let _ = self.eat(",");
            if self.eat_phrase(&self.g.corrections) {
                let _ = self.eat(",");
                if let Ok(it) = self.item() {
                    out.pop();
                    out.push(it);
                    continue;
                }
            }
            self.i = save;
            // "the red ones, both of them": the same objects said again.
            if matches!(out.last(), Some(Item::Ref(_))) {
                let at = self.i;
                let _ = self.eat(",");
                if self
                    .g
                    .lexicon
                    .pronouns
                    .at(self.w, self.i)
                    .is_some_and(|n| n > 1)
                    && matches!(self.peek(), Some("both" | "all" | "each" | "the"))
                {
                    self.i += self.g.lexicon.pronouns.at(self.w, self.i).unwrap_or(0);
                    continue;
                }
                self.i = at;
            }
            let joined = self.eat_seq(&[",", "and"])
                || self.eat_seq(&["and", "also"])
                || self.eat(",")
                || self.eat("and")
                || self.eat("or")
                || self.eat("plus")
                || self.eat_seq(&["as", "well", "as"])
                || self.eat_seq(&["along", "with"])
                || self.eat_seq(&["together", "with"]);
            if !joined {
                return Ok(out);
            }
            // "keep the cubes and bin the rest": a verb after "and" starts a clause.
            let verb_next = self.peek().is_some_and(|w| {
                self.g.verb(w).is_some()
                    && self.g.lexicon.class_at(self.w, self.i).is_none()
                    && self.g.lexicon.color(w).is_none()
            });
            // "the cup, the can, all into the bin": "all" sums up the list, it is not one more.
            let sums_up = matches!(self.peek(), Some("all" | "both" | "each")) && {
                let mut probe = Parser {
                    g: self.g,
                    w: self.w,
                    i: self.i + 1,
                };
                matches!(probe.dest(), Ok(Some(_)))
            };
            // "the blue box further back, can you put that one in the bin": a question
            // follows, not a can.
            let question = matches!(self.peek(), Some("can" | "could" | "would" | "will"))
                && matches!(self.peek_at(1), Some("you" | "u"));
            // "then the purple box, and after that the rest": a step of a sequence, not one
            // more object of this step.
            let next_step = matches!(
                self.peek(),
                Some("then" | "next" | "afterwards" | "finally" | "lastly")
            ) || (self.peek() == Some("after")
                && matches!(self.peek_at(1), Some("that" | "this" | "those" | "it")));
            if verb_next || sums_up || question || next_step {
                self.i = save;
                return Ok(out);
            }
            // "the cans, they are finished": a new clause says something of them.
            if self.w[self.i - 1] == ","
                && matches!(self.peek(), Some("it" | "they" | "these" | "those"))
                && matches!(self.peek_at(1), Some("is" | "are" | "was" | "were"))
            {
                self.i = save;
                return Ok(out);
            }
            // "the green can, it stays": the pronoun takes up what was just named.
            if self.w[self.i - 1] == ","
                && matches!(self.peek(), Some("it" | "they" | "these" | "those"))
                && self.peek_at(1).is_some_and(|w| {
                    Grammar::is_form_of(w, &self.g.verbs.go_verbs)
                        || Grammar::is_form_of(w, &self.g.verbs.stay_verbs)
                        || matches!(w, "should" | "can" | "must" | "will" | "needs" | "need")
                })
            {
                self.i += 1;
                return Ok(out);
            }
            match self.item() {
                Ok(it) => {
                    // "Bin the yellow cup on the right, the other one I'm keeping": what
                    // follows the comma is a clause of its own.
                    if self.w[save] == "," && self.speaker_keeps_len().is_some() {
                        self.i = save;
                        return Ok(out);
                    }
                    // "leave the blue box, the cubes go in the bin": after a comma, an item
                    // with a verb of its own is the subject of the next clause.
                    // ("..., everything else can go": "can" here is no question, which
                    // "can you" would be, and no can, which a noun before it would make.)
                    let verb_of_subject = |w: &str| {
                        Grammar::is_form_of(w, &self.g.verbs.go_verbs)
                            || Grammar::is_form_of(w, &self.g.verbs.stay_verbs)
                            || matches!(
                                w,
                                "should" | "must" | "will" | "needs" | "need" | "can" | "may"
                            )
                    };
                    // ("..., the cup and the can go in the bin": a list of them.)
                    let subject = self.w[save] == ","
                        && self.list_then(save + 1, verb_of_subject, &mut lists_read);
                    if subject {
                        self.i = save;
                        return Ok(out);
                    }
                    out.push(it)
                }
                Err(_) => {
                    self.i = save;
                    return Ok(out);
                }
            }
        }
    }

    /// Whether items joined by commas, "and" or "or" start at `at` and are followed by a word
    /// `ends` accepts. One pass over the list: the probe must not itself probe at each comma
    /// (`items` does), or a list of n items costs 2^n parses (a fuzzer's "cream , cream , ..."
    /// hung the planner). `read` holds the answer for every item start an earlier probe of the
    /// same list passed (the same `ends`): the list's later probes stop there, so a list of n
    /// items costs n item parses, not n^2.
    fn list_then(
        &self,
        at: usize,
        ends: impl Fn(&str) -> bool,
        read: &mut std::collections::HashMap<usize, bool>,
    ) -> bool {
        let mut probe = Parser {
            g: self.g,
            w: self.w,
            i: at,
        };
        let mut starts = Vec::new();
        let answer = loop {
            if let Some(&known) = read.get(&probe.i) {
                break known;
            }
            starts.push(probe.i);
            if probe.item().is_err() {
                break false;
            }
            let joined = probe.eat_seq(&[",", "and"])
                || probe.eat(",")
                || probe.eat("and")
                || probe.eat("or");
            if !joined {
                break probe.peek().is_some_and(&ends);
            }
        };
        read.extend(starts.into_iter().map(|k| (k, answer)));
        answer
    }

    pub(super) fn fix_error(&self, e: ParseError, start: usize) -> ParseError {
        match e {
            ParseError::Unknown { word, .. } => ParseError::Unknown {
                word,
                clause: self.w[start..].join(" "),
            },
            other => other,
        }
    }

    /// One object reference, a pronoun, the table or a container.
    pub(super) fn item(&mut self) -> Result<Item, ParseError> {
        let lex = &self.g.lexicon;
        let start = self.i;
        if self.at_end() || self.at_connector() && self.peek() != Some("that") {
            return Err(self.unknown(start));
        }
        // The rest: "the rest", "everything else", "the others", "the rest of the cubes".
        if self.eat_phrase(&lex.rest) {
            let mut r = self.blank_ref(Quantity::All);
            r.other = true;
            if self.eat("of") {
                match self.item() {
                    Ok(Item::Ref(inner)) => {
                        r = Ref {
                            other: true,
                            quantity: Quantity::All,
                            ..inner
                        }
                    }
                    // "the rest of the table", "the rest of it".
                    Ok(Item::Table | Item::Pronoun) => {}
                    _ => return Err(self.unknown(start)),
                }
            }
            self.postmodifiers(&mut r)?;
            r.text = self.text(start);
            return Ok(Item::Ref(r));
        }
        // "clear the right side of the table", "the left half": the objects on that side.
        {
            let _ = self.eat("the") || self.eat("your");
            let side = lex
                .sides
                .at(self.w, self.i)
                .filter(|(s, _)| s == "left" || s == "right");
            if let Some((side, n)) = side {
                let mut k = self.i + n;
                let named_side = self.w[k - 1] == "side"
                    || self
                        .w
                        .get(k)
                        .is_some_and(|w| matches!(w.as_str(), "side" | "half" | "part"));
                if self.w[k - 1] != "side" && named_side {
                    k += 1;
                }
                // ("the right side can": the side says which can.)
                if named_side && !lex.color_or_noun_at(self.w, k) {
                    self.i = k;
                    self.eat_of_table();
                    let mut r = self.blank_ref(Quantity::All);
                    r.rank = Some(Rank::Key(side));
                    r.side_region = true;
                    r.text = self.text(start);
                    return Ok(Item::Ref(r));
                }
            }
            self.i = start;
        }
        // "bin all three, in that order": a count alone means the objects just named.
        if self.peek() == Some("all")
            && self.peek_at(1).is_some_and(|w| lex.numbers.contains_key(w))
            && (self.i + 2 >= self.w.len()
                || self.w[self.i + 2] == ","
                || CONNECTORS.contains(&self.w[self.i + 2].as_str())
                || lex.into.at(self.w, self.i + 2).is_some())
        {
            self.i += 2;
            return Ok(Item::Pronoun);
        }
        // "the can, the cup. all go in the bin": "all"/"both" as the subject of a verb means
        // what was just named.
        if matches!(self.peek(), Some("all" | "both" | "each"))
            && self.peek_at(1).is_some_and(|w| {
                Grammar::is_form_of(w, &self.g.verbs.go_verbs)
                    || Grammar::is_form_of(w, &self.g.verbs.stay_verbs)
            })
        {
            self.i += 1;
            return Ok(Item::Pronoun);
        }
        let everything_len = lex.everything.at(self.w, self.i).unwrap_or(0);
        // Pronouns, unless a noun follows ("that cup") or they start "it all".
        if let Some(n) = lex
            .pronouns
            .at(self.w, self.i)
            .filter(|n| *n >= everything_len)
        {
            let after = self.i + n;
            // "those two" alone, but "those two cans" is a noun phrase.
            let noun_follows =
                matches!(self.w[self.i].as_str(), "that" | "this" | "these" | "those")
                    && (n == 1 || lex.numbers.contains_key(&self.w[self.i + n - 1]))
                    && {
                        let mut probe = Parser {
                            g: self.g,
                            w: self.w,
                            i: after,
                        };
                        probe.head(&mut self.blank_ref(Quantity::Definite)).is_ok()
                            || lex.table.at(self.w, after).is_some()
                            || lex.containers.at(self.w, after).is_some()
                    };
            if !noun_follows {
                self.i = after;
                return Ok(Item::Pronoun);
            }
        }
        // "what is red", "whatever is closest to you": everything the predicate holds for.
        if matches!(self.peek(), Some("what" | "whatever")) && self.copula_at(self.i + 1) {
            self.i += 1;
            self.eat_copula();
            let mut r = self.blank_ref(Quantity::All);
            let negative = self.eat("not");
            if !self.predicate(&mut r, negative)? {
                // "whatever is right next to the can": the one thing the relation picks out.
                self.eat_placement();
                self.postmodifiers(&mut r)?;
                if negative || r.relation.is_none() {
                    self.i = start;
                    return Err(self.unknown(start));
                }
                r.quantity = Quantity::Definite;
            }
            self.postmodifiers(&mut r)?;
            r.text = self.text(start);
            return Ok(Item::Ref(r));
        }
        // Everything: "everything", "all of it", "anything red or blue".
        if lex.everything.at(self.w, self.i).is_some() && !self.determiner_then_noun() {
            self.eat_phrase(&lex.everything);
            let mut r = self.blank_ref(Quantity::All);
            // "all the red things" is a determiner; "all" alone is everything.
            self.postmodifiers(&mut r)?;
            r.text = self.text(start);
            return Ok(Item::Ref(r));
        }
        // Determiners and quantities.
        let mut q = Quantity::Definite;
        let mut had_det = false;
        let mut plural_det = false;
        if let Some(n) = lex.universal.at(self.w, self.i) {
            self.i += n;
            q = Quantity::All;
        } else if let Some(n) = lex.both.at(self.w, self.i) {
            self.i += n;
            q = Quantity::Both;
        } else if let Some((pq, n)) = self.partitive_count() {
            q = pq;
            self.i += n;
            let _ = self.eat("the") || self.eat("these") || self.eat("those");
        } else if let Some(n) = lex.definite.at(self.w, self.i) {
            plural_det = matches!(self.w[self.i].as_str(), "these" | "those");
            self.i += n;
            had_det = true;
        } else if let Some(w) = self.peek() {
            if let Some(n) = lex.numbers.get(w).copied().or_else(|| w.parse().ok()) {
                if self.count_follows() {
                    self.i += 1;
                    q = if n == 1 {
                        Quantity::Any
                    } else {
                        Quantity::Count(n)
                    };
                    had_det = true;
                }
            } else if lex.indefinite.iter().any(|d| d == w) && self.peek_at(1).is_some() {
                self.i += 1;
                q = Quantity::Any;
                had_det = true;
            }
        }
        // "the two cups", "the other boxes", "the whole table".
        if let Some(w) = self.peek() {
            if let Some(n) = lex.numbers.get(w).copied() {
                if n > 1 && self.count_follows() {
                    self.i += 1;
                    q = Quantity::Count(n);
                }
            }
        }
        if self.eat_table() {
            return Ok(Item::Table);
        }
        if let Some((classes, n)) = lex.containers.at(self.w, self.i) {
            // A container as an object; "can" alone is an object ("trash can" is a container).
            if lex.class_at(self.w, self.i).is_none_or(|(_, m, _)| m < n) {
                self.i += n;
                return Ok(Item::Container(ContainerRef {
                    classes,
                    ordinal: None,
                    text: self.text(start),
                }));
            }
        }
        let mut r = self.blank_ref(q);
        if let Err(e) = self.head(&mut r) {
            self.i = start;
            return Err(e);
        }
        if plural_det && r.quantity == Quantity::Definite {
            r.quantity = Quantity::All;
        }
        let _ = had_det;
        self.postmodifiers(&mut r)?;
        r.text = self.text(start);
        Ok(Item::Ref(r))
    }

    /// "all" followed by a noun is a determiner ("all cubes"), not "everything".
    pub(super) fn determiner_then_noun(&self) -> bool {
        let lex = &self.g.lexicon;
        if let Some(n) = lex.universal.at(self.w, self.i) {
            let mut probe = Parser {
                g: self.g,
                w: self.w,
                i: self.i + n,
            };
            // "all three cans".
            if probe.peek().is_some_and(|w| lex.numbers.contains_key(w)) {
                probe.i += 1;
            }
            return probe.head(&mut self.blank_ref(Quantity::All)).is_ok();
        }
        false
    }

    /// "one of the cups", "two of the cans", "any of the cubes", "either can".
    pub(super) fn partitive_count(&self) -> Option<(Quantity, usize)> {
        let w = self.peek()?;
        let lex = &self.g.lexicon;
        let q = match w {
            "either" => Some(Quantity::Any),
            "any" | "one" | "some" if self.peek_at(1) == Some("of") => Some(Quantity::Any),
            "each" | "all" | "every" if self.peek_at(1) == Some("of") => Some(Quantity::All),
            _ => lex.numbers.get(w).and_then(|n| {
                (self.peek_at(1) == Some("of")).then_some(if *n == 1 {
                    Quantity::Any
                } else {
                    Quantity::Count(*n)
                })
            }),
        }?;
        if w == "either" {
            return Some((q, if self.peek_at(1) == Some("of") { 2 } else { 1 }));
        }
        // "a couple of", "a pair of"
        Some((q, 2))
    }

    /// The length of "I am keeping", "I still need", "we are using" ... at the cursor, if one
    /// starts there: the speaker's need or use of objects.
    pub(super) fn speaker_keeps_len(&self) -> Option<usize> {
        if !matches!(self.peek(), Some("i" | "we")) {
            return None;
        }
        let mut k = 1;
        while matches!(
            self.peek_at(k),
            Some("am" | "are" | "still" | "really" | "will" | "do" | "also")
        ) {
            k += 1;
        }
        matches!(
            self.peek_at(k),
            Some("keep" | "keeping" | "need" | "needing" | "want" | "wanting" | "use" | "using")
        )
        .then_some(k + 1)
    }

    /// Whether a plural count follows a number word ("two cubes"), not "one at a time".
    pub(super) fn count_follows(&self) -> bool {
        let mut probe = Parser {
            g: self.g,
            w: self.w,
            i: self.i + 1,
        };
        self.peek_at(1)
            .is_some_and(|n| n != "at" && n != "by" && n != "after")
            && probe.head(&mut self.blank_ref(Quantity::Any)).is_ok()
    }

    pub(super) fn blank_ref(&self, quantity: Quantity) -> Ref {
        Ref {
            quantity,
            colors: Vec::new(),
            classes: None,
            not_colors: Vec::new(),
            not_classes: Vec::new(),
            rank: None,
            ordinal: None,
            relation: None,
            other: false,
            bare_one: false,
            one_of_group: false,
            unchecked: Vec::new(),
            every_class: false,
            side_region: false,
            text: String::new(),
        }
    }

    /// Adjectives and the head noun: "second red", "leftmost", "other big blue boxes".
    pub(super) fn head(&mut self, r: &mut Ref) -> Result<(), ParseError> {
        let lex = &self.g.lexicon;
        let start = self.i;
        let mut adjectives = 0;
        while let Some(w) = self.peek() {
            // "the ruby cup" (a colour only before a noun), "the dark blue box" (a shade).
            if let Some(c) = lex.color_before(self.w, self.i) {
                self.i += 1;
                if let Some(c) = c {
                    if !r.colors.contains(&c) {
                        r.colors.push(c);
                    }
                    adjectives += 1;
                }
                self.skip_color_suffixes();
                continue;
            }
            // "the sunflower-yellow cup": a word the grammar lacks, right before a colour that
            // comes before a noun, is a shade of that colour; it narrows nothing.
            let negating = matches!(w, "non" | "not" | "no" | "un" | "anti" | "never" | "nor");
            let shade = self.peek_at(1).is_some_and(|n| lex.color(n).is_some())
                && lex.color_or_noun_at(self.w, self.i + 2);
            // "the scuffed plum-coloured box", "the battered tin": a state, before a noun.
            let state =
                w.len() > 4 && w.ends_with("ed") && lex.color_or_noun_at(self.w, self.i + 1)
                    || w.ends_with("ed") && lex.color_before(self.w, self.i + 1).is_some();
            if !self.g.knows(w) && !negating && (shade || state) {
                self.i += 1;
                r.unchecked.push(w.to_string());
                continue;
            }
            // "the plastic cup", "the empty can": a material or state, before a noun or colour.
            if lex.unchecked.iter().any(|u| u == w) && lex.color_or_noun_at(self.w, self.i + 1) {
                self.i += 1;
                r.unchecked.push(w.to_string());
                continue;
            }
            if let Some(c) = lex.color(w) {
                self.i += 1;
                // "ruby red", "navy blue": one colour, said twice.
                if !r.colors.contains(&c) {
                    r.colors.push(c);
                }
                adjectives += 1;
                self.skip_color_suffixes();
                // "red or blue", "red and purple things", "red, white".
                if matches!(self.peek(), Some("or" | "and" | ","))
                    && self.peek_at(1).and_then(|n| lex.color(n)).is_some()
                    && (self.peek() == Some("or") || self.color_list_has_noun())
                {
                    self.i += 1;
                }
                continue;
            }
            // "the left green can", "the right-hand cup", "the back box".
            if let Some((side, n)) = lex.sides.at(self.w, self.i) {
                let mut k = self.i + n;
                while matches!(self.w.get(k).map(String::as_str), Some("hand" | "most")) {
                    k += 1;
                }
                if lex.color_or_noun_at(self.w, k) {
                    self.i = k;
                    r.rank = Some(Rank::Key(side));
                    adjectives += 1;
                    continue;
                }
            }
            if let Some(k) = lex.superlatives.get(w) {
                // "closer to you" is a post-modifier; "the closer can" a prenominal rank.
                if self.peek_at(1) == Some("to") || self.peek_at(1) == Some("from") {
                    break;
                }
                self.i += 1;
                r.rank = Some(Rank::Key(k.clone()));
                adjectives += 1;
                continue;
            }
            if let Some(o) = lex.ordinals.get(w) {
                if self.peek_at(1).is_some() {
                    self.i += 1;
                    r.ordinal = Some((*o, false));
                    adjectives += 1;
                    continue;
                }
            }
            if lex.other_words.iter().any(|o| o == w) && w != "rest" && w != "else" {
                self.i += 1;
                r.other = true;
                adjectives += 1;
                // "the other two boxes", "the other three things": all the others (the count
                // only says how many the speaker sees).
                if self
                    .peek()
                    .is_some_and(|n| lex.numbers.get(n).is_some_and(|&k| k > 1))
                    && self.peek_at(1).is_some_and(|n| {
                        lex.class_at(self.w, self.i + 1).is_some() || lex.color(n).is_some()
                    })
                {
                    self.i += 1;
                    r.quantity = Quantity::All;
                }
                continue;
            }
            if matches!(
                w,
                "single" | "lone" | "individual" | "whole" | "entire" | "only" | "sole"
            ) {
                self.i += 1;
                continue;
            }
            break;
        }
        // The noun.
        if let Some((classes, n, plural)) = lex.class_at(self.w, self.i) {
            let word = self.w[self.i + n - 1].clone();
            self.i += n;
            let any = classes.iter().any(|c| c == "*");
            r.classes = (!any).then_some(classes);
            r.bare_one = (word == "one" || word == "ones") && r.colors.is_empty();
            if plural && r.quantity == Quantity::Definite {
                r.quantity = Quantity::All;
            }
            return Ok(());
        }
        if adjectives > 0 && !r.colors.is_empty() {
            // "the orange", "the red and the blue": a colour used as a noun.
            return Ok(());
        }
        if adjectives == 1 && r.other && r.rank.is_none() && r.ordinal.is_none() {
            // "then the other": the other one.
            r.bare_one = true;
            return Ok(());
        }
        // "the nearer of the two boxes", "the second of the cans": the rank among those.
        if adjectives > 0 && (r.rank.is_some() || r.ordinal.is_some()) && self.peek() == Some("of")
        {
            let save = self.i;
            self.i += 1;
            if let Ok(Item::Ref(inner)) = self.item() {
                r.colors = inner.colors;
                r.classes = inner.classes;
                r.not_colors = inner.not_colors;
                r.not_classes = inner.not_classes;
                r.relation = inner.relation;
                r.other = inner.other;
                r.unchecked = inner.unchecked;
                if r.rank.is_none() {
                    r.rank = inner.rank;
                }
                return Ok(());
            }
            self.i = save;
        }
        if adjectives > 0 && (r.rank.is_some() || r.ordinal.is_some()) {
            // "the nearest", "the second from the left", "biggest first": like "the nearer
            // one", it picks among the objects just named.
            r.bare_one = true;
            return Ok(());
        }
        self.i = start + adjectives.min(self.w.len() - start);
        Err(self.unknown(start))
    }

    /// "red colored", "lemon-coloured": words after a colour that leave it as it is.
    fn skip_color_suffixes(&mut self) {
        let lex = &self.g.lexicon;
        while self
            .peek()
            .is_some_and(|s| lex.color_suffixes.iter().any(|x| x == s))
            && !self.head_word_at(self.i)
        {
            self.i += 1;
        }
    }

    pub(super) fn head_word_at(&self, at: usize) -> bool {
        self.w.get(at).is_some_and(|w| w == "one" || w == "ones")
            && self.g.lexicon.class_at(self.w, at).is_some()
    }

    /// Whether a run of colours joined by "and"/"," ends in a noun ("red and purple things"),
    /// not a new reference ("the orange and the red ones").
    pub(super) fn color_list_has_noun(&self) -> bool {
        let lex = &self.g.lexicon;
        let mut k = self.i;
        while k < self.w.len() {
            let w = &self.w[k];
            if lex.color(w).is_some() || matches!(w.as_str(), "and" | "or" | ",") {
                k += 1;
                continue;
            }
            return lex.class_at(self.w, k).is_some();
        }
        false
    }

    /// After the head: "else", relative clauses, sides, distances, relations, "from the left".
    pub(super) fn postmodifiers(&mut self, r: &mut Ref) -> Result<(), ParseError> {
        let lex = &self.g.lexicon;
        loop {
            let save = self.i;
            if self.eat("else") {
                r.other = true;
                continue;
            }
            // "anything yellow", "everything red or blue".
            if r.quantity == Quantity::All && r.classes.is_none() {
                if let Some(c) = self.peek().and_then(|w| lex.color(w)) {
                    self.i += 1;
                    r.colors.push(c);
                    if matches!(self.peek(), Some("or" | "and" | ","))
                        && self.peek_at(1).and_then(|w| lex.color(w)).is_some()
                    {
                        self.i += 1;
                    }
                    continue;
                }
            }
            // "the cup yellow and the orange cube": a colour after its noun, as in many
            // languages (not before another noun: "the cup, yellow box ...").
            if r.colors.is_empty() && r.classes.is_some() {
                if let Some(c) = self.peek().and_then(|w| lex.color(w)) {
                    let next = self.i + 1;
                    let noun_next = lex.class_at(self.w, next).is_some()
                        || lex.containers.at(self.w, next).is_some()
                        || self.w.get(next).is_some_and(|w| w == "one" || w == "ones");
                    if !noun_next {
                        self.i += 1;
                        r.colors.push(c);
                        continue;
                    }
                }
            }
            // "the cup of yellow colour", "the box in blue", "the cube with red colour": a
            // learner's way to give the colour.
            {
                let at = self.i;
                if self.eat("of") || self.eat("in") || self.eat("with") {
                    let _ = self.eat("a") || self.eat("the");
                    if let Some(c) = self.peek().and_then(|w| lex.color(w)) {
                        self.i += 1;
                        let _ = self.eat("colour") || self.eat("color");
                        // Not "in the red bin", "with the blue cup".
                        let noun_follows = lex.containers.at(self.w, self.i).is_some()
                            || lex.class_at(self.w, self.i).is_some()
                            || lex.table.at(self.w, self.i).is_some();
                        if !noun_follows {
                            r.colors.push(c);
                            continue;
                        }
                    }
                }
                self.i = at;
            }
            // "on the table", "here", "there": where they all are anyway.
            if self.on_the_table()
                || self.eat_seq(&["over", "there"])
                || self.eat("here")
                || (self.peek() == Some("there") && self.peek_at(1) != Some("is"))
                    && self.eat("there")
            {
                continue;
            }
            // "from the left/right" after an ordinal.
            if r.ordinal.is_some()
                && (self.eat_seq(&["from", "the", "left"]) || self.eat_seq(&["from", "left"]))
            {
                continue;
            }
            if r.ordinal.is_some()
                && (self.eat_seq(&["from", "the", "right"]) || self.eat_seq(&["from", "right"]))
            {
                if let Some((k, _)) = r.ordinal {
                    r.ordinal = Some((k, true));
                }
                continue;
            }
            // Relative clauses: "that is not a box", "which are red", "that's closer to you".
            if matches!(self.peek(), Some("that" | "which" | "who")) && self.copula_at(self.i + 1) {
                self.i += 1;
                self.eat_copula();
                let negative = self.eat("not");
                // "that's sitting right next to the green can".
                self.eat_placement();
                if self.predicate(r, negative)? {
                    continue;
                }
                self.i = save;
                return Ok(());
            }
            if self.peek() == Some("not") {
                self.i += 1;
                if self.predicate(r, true)? {
                    continue;
                }
                self.i = save;
                return Ok(());
            }
            if self.rank_modifier(r)? {
                continue;
            }
            // Relations to an anchor: "next to the cup", "left of the blue box", "sitting right
            // next to the cup".
            let placed_at = self.i;
            self.eat_placement();
            if lex.relations.at(self.w, self.i).is_none() {
                self.i = placed_at;
            }
            if let Some((rel, n)) = lex.relations.at(self.w, self.i) {
                self.i += n;
                match self.item() {
                    Ok(anchor) => {
                        r.relation = Some((rel, Box::new(anchor)));
                        continue;
                    }
                    Err(_) => {
                        self.i = save;
                        return Ok(());
                    }
                }
            }
            return Ok(());
        }
    }

    /// "of the table", "of this desk" after a side: the cursor after it when it is there,
    /// unmoved otherwise ("left of the cup" is a relation).
    fn eat_of_table(&mut self) -> bool {
        let save = self.i;
        if self.eat("of") {
            let _ = self.eat("the") || self.eat("this") || self.eat("your");
            if self.eat_table() {
                return true;
            }
        }
        self.i = save;
        false
    }

    /// "sitting", "right", "just": how an object is placed, said before where ("sitting right
    /// next to the can"); the cursor after them.
    fn eat_placement(&mut self) {
        let _ = self.eat("sitting")
            || self.eat("lying")
            || self.eat("standing")
            || self.eat("located")
            || self.eat("placed");
        let _ = self.eat("right") || self.eat("just") || self.eat("directly");
    }

    /// Sides and distances: "on the left", "further to the right", "nearest to you",
    /// "farther away", "closest to the bin", "at the back".
    pub(super) fn rank_modifier(&mut self, r: &mut Ref) -> Result<bool, ParseError> {
        let lex = &self.g.lexicon;
        let save = self.i;
        // "on the left (side)", "to the right", "further to the right", "more to the left".
        let _ = self.eat("sitting") || self.eat("lying") || self.eat("standing");
        let _ = self.eat("way") || self.eat("over") || self.eat("right");
        let intensified = self.eat("further")
            || self.eat("farther")
            || self.eat("more")
            || self.eat("furthest")
            || self.eat("farthest")
            || self.eat("most");
        let prep = self.eat("on")
            || self.eat("to")
            || self.eat("at")
            || self.eat("in")
            || self.eat("towards")
            || self.eat("toward");
        if prep || self.i > save {
            let _ = self.eat("the") || self.eat("your");
            // "the can in the middle (of the table)": between the others, across the table.
            if matches!(self.peek(), Some("middle" | "centre" | "center")) {
                self.i += 1;
                let _ = self.eat_of_table();
                r.rank = Some(Rank::Key("middle".into()));
                return Ok(true);
            }
            if let Some((side, n)) = lex.sides.at(self.w, self.i) {
                // "to the left of the cup" is a relation, read by the caller; "on the left
                // (side) of the table", "on the left half of the table" is the table's side.
                let mut after = self.i + n;
                if self
                    .w
                    .get(after)
                    .is_some_and(|w| matches!(w.as_str(), "half" | "part"))
                {
                    after += 1;
                }
                let at = self.i;
                self.i = after;
                let of_table = self.eat_of_table();
                if of_table || self.peek() != Some("of") {
                    if !of_table {
                        let _ = self.eat("side") || self.eat("hand");
                    }
                    r.side_region = !intensified && self.w[save..after].iter().all(|w| w != "far");
                    r.rank = Some(Rank::Key(side));
                    return Ok(true);
                }
                self.i = at;
            }
            self.i = save;
        }
        // "nearest (to) you", "closer to the bin", "farthest from you", "farther away".
        let Some(key) = self.peek().and_then(|w| lex.superlatives.get(w)).cloned() else {
            return Ok(false);
        };
        if key != "near" && key != "far" {
            return Ok(false);
        }
        self.i += 1;
        let far = key == "far";
        let _ = self.eat("away");
        let _ = self.eat("to") || self.eat("from") || self.eat("in");
        if self.eat_phrase(&lex.self_words) {
            r.rank = Some(Rank::Key(key));
            return Ok(true);
        }
        if self.at_end() || self.at_connector() || self.dest_ahead() {
            // "the can farther away", "the cup nearest".
            r.rank = Some(Rank::Key(key));
            return Ok(true);
        }
        // The anchor is read once: probing for it first and then reading it would read a chain
        // of n ("the cup farther from the can farther from the ...") 2^n times.
        let at = self.i;
        match self.item() {
            Ok(anchor) => {
                r.rank = Some(Rank::From {
                    anchor: Box::new(anchor),
                    far,
                });
            }
            Err(_) => {
                self.i = at;
                r.rank = Some(Rank::Key(key));
            }
        }
        Ok(true)
    }

    /// What a relative clause says: a colour, a class, a rank, a side.
    pub(super) fn predicate(&mut self, r: &mut Ref, negative: bool) -> Result<bool, ParseError> {
        let lex = &self.g.lexicon;
        let _ = self.eat("a") || self.eat("an") || self.eat("the");
        let mut any = false;
        loop {
            if let Some(c) = self.peek().and_then(|w| lex.color(w)) {
                self.i += 1;
                if negative {
                    r.not_colors.push(c);
                } else {
                    r.colors.push(c);
                }
                any = true;
            } else if let Some((classes, n, _)) = lex.class_at(self.w, self.i) {
                if classes.iter().any(|c| c == "*") {
                    self.i += n;
                    any = true;
                } else {
                    self.i += n;
                    if negative {
                        r.not_classes.extend(classes);
                    } else {
                        r.classes = Some(classes);
                    }
                    any = true;
                }
            } else if !negative && self.rank_modifier(r)? {
                any = true;
            } else {
                break;
            }
            let before_joiner = self.i;
            if !(self.eat("or") || self.eat("and") || self.eat(",") || self.eat("nor")) {
                break;
            }
            let _ = self.eat("a") || self.eat("an") || self.eat("not");
            // "that is far away and hold it": the joiner starts the next clause.
            let more = self.peek().is_some_and(|w| {
                lex.color(w).is_some()
                    || lex.superlatives.contains_key(w)
                    || lex.sides.get(w).is_some()
            }) || lex.class_at(self.w, self.i).is_some()
                || matches!(
                    self.peek(),
                    Some("on" | "to" | "at" | "in" | "further" | "farther" | "more")
                );
            if !more {
                self.i = before_joiner;
                break;
            }
        }
        Ok(any)
    }
}
