//! Clauses: openers, verbs and their particles, subjects, destinations, exceptions and the
//! order words around them.

use super::super::grammar::{Grammar, VerbKind};
use super::super::refusal::Refusal;
use super::{
    Action, Clause, ContainerRef, Dest, Item, ParseError, Parsed, Parser, Quantity, CONNECTORS,
};

impl<'a> Parser<'a> {
    pub(super) fn sentence(&mut self, parsed: &mut Parsed) -> Result<(), ParseError> {
        // "Any order for the cans.", "Cans in any order.", "Doesn't matter which one.": said
        // of objects already named, after a clause that named them.
        if parsed.clauses.last().is_some_and(|c| !c.objects.is_empty()) && self.order_remark() {
            parsed.skipped.push(self.w.join(" "));
            return Ok(());
        }
        // "Of the two red cubes, put the one on the left in the bin": a fronted partitive says
        // what kind the sentence's bare "one" is.
        let kind = self.fronted_partitive();
        let first_clause = parsed.clauses.len();
        self.sentence_clauses(parsed)?;
        if let Some(kind) = kind {
            for c in &mut parsed.clauses[first_clause..] {
                for it in c.objects.iter_mut() {
                    if let Item::Ref(r) = it {
                        r.take_kind_of(&kind.classes, &kind.colors);
                    }
                }
            }
        }
        Ok(())
    }

    /// A sentence that only says the order does not matter, of objects named before or of
    /// none; the cursor at its end when it is one, unmoved otherwise.
    fn order_remark(&mut self) -> bool {
        const ANY: &[&[&str]] = &[
            &["it", "does", "not", "matter", "which", "one"],
            &["it", "does", "not", "matter", "which"],
            &["does", "not", "matter", "which", "one"],
            &["does", "not", "matter", "which"],
            &["the", "order", "does", "not", "matter"],
            &["order", "does", "not", "matter"],
            &["can", "go", "in", "any", "order"],
            &["in", "no", "particular", "order"],
            &["no", "particular", "order"],
            &["in", "any", "order"],
            &["any", "order"],
            // "Either one is fine.", "either will do": any one of those named.
            &["either", "one", "is", "fine"],
            &["either", "is", "fine"],
            &["either", "one", "will", "do"],
            &["either", "will", "do"],
            &["any", "one", "is", "fine"],
            &["whichever", "one"],
            &["either", "one"],
            &["either", "way"],
        ];
        let save = self.i;
        let any = |p: &mut Self| ANY.iter().any(|a| p.eat_seq(a));
        let done = |p: &mut Self| {
            while p.eat_phrase(&p.g.fillers) || p.eat(",") {}
            p.at_end()
        };
        // "any order for the cans" (the order words are fillers too: tried before them)
        for fillers_first in [false, true] {
            self.i = save;
            while fillers_first && self.eat_phrase(&self.g.fillers) {}
            if any(self) {
                let at = self.i;
                if (self.eat("for") || self.eat("with")) && self.items(at).is_err() {
                    continue;
                }
                if done(self) {
                    return true;
                }
            }
        }
        self.i = save;
        // "cans in any order", "the cans can go in any order"
        let from = self.i;
        if self.items(from).is_ok() {
            let _ = self.eat_seq(&["can", "go"]) || self.eat("go");
            if any(self) && done(self) {
                return true;
            }
        }
        self.i = save;
        false
    }

    /// "of the two red cubes ," at the start of a sentence: the kind named, the cursor after
    /// the comma; `None` (cursor unmoved) otherwise.
    fn fronted_partitive(&mut self) -> Option<super::Ref> {
        let save = self.i;
        if self.eat("of") {
            if let Ok(items) = self.items(save) {
                if let [Item::Ref(r)] = items.as_slice() {
                    if self.eat(",") && (r.classes.is_some() || !r.colors.is_empty()) {
                        return Some(r.clone());
                    }
                }
            }
        }
        self.i = save;
        None
    }

    fn sentence_clauses(&mut self, parsed: &mut Parsed) -> Result<(), ParseError> {
        // A sentence that only sets the scene ("the table is a mess").
        let start = self.i;
        while self.eat_phrase(&self.g.fillers) {}
        if self.eat_phrase(&self.g.statements) {
            if self.at_end() {
                return Ok(());
            }
            // "With many thanks, Margaret.", "Cheers, Tom": a closing and a name, nothing else.
            let named = self.w.len() == self.i + 2
                && self.w[self.i] == ","
                && !self.g.knows(&self.w[self.i + 1]);
            if named {
                parsed.skipped.push(self.w[start..].join(" "));
                return Ok(());
            }
        }
        self.i = start;
        loop {
            // "bin the can after the cup", "bin the cup before the can": the connector that
            // led into this clause, when it orders its objects against the clause before.
            let mut relative: Option<&str> = None;
            // "... and that's it", "..., that is all, thanks": a closing said after the
            // request (its "that" is also a connector, so it is looked for first).
            loop {
                if self.closing() {
                    continue;
                }
                // "once you are done with those, ...": a filler of several words that opens
                // with a connector goes whole.
                if self.at_connector() && self.g.fillers.at(self.w, self.i).is_some_and(|n| n > 1) {
                    self.eat_phrase(&self.g.fillers);
                    continue;
                }
                // "That goes in the bin first": a subject, not a connector.
                let subject = self.peek() == Some("that")
                    && self.peek_at(1).is_some_and(|n| {
                        Grammar::is_form_of(n, &self.g.verbs.go_verbs)
                            || Grammar::is_form_of(n, &self.g.verbs.stay_verbs)
                            || matches!(n, "should" | "can" | "must" | "needs" | "has")
                    });
                let other_branch =
                    self.peek() == Some("otherwise") && parsed.clauses.iter().any(|c| c.condition);
                if !self.at_connector() || self.starts_clause_word() || subject || other_branch {
                    break;
                }
                // "..., and after, the white can also": "after" on its own is "afterwards".
                relative = match self.peek() {
                    Some(w @ ("after" | "before"))
                        if !self.peek_at(1).is_some_and(|n| CONNECTORS.contains(&n)) =>
                    {
                        Some(w)
                    }
                    _ => None,
                };
                self.i += 1;
            }
            if self.at_end() {
                return Ok(());
            }
            let before = self.i;
            let clauses_before = parsed.clauses.len();
            if self.correction(parsed)? {
                continue;
            }
            let corrects = self.i > before;
            if self.eat_seq(&["if", "so"]) {
                // "Is the mug still there? If so, ...": the question was the condition.
                continue;
            }
            if let Some(c) = self.condition(before) {
                parsed.clauses.push(c);
                continue;
            }
            // "..., otherwise bin the green can", "If not, just the green can.": what follows
            // is for when the condition said before does not hold.
            if parsed.clauses.iter().any(|c| c.condition) && self.otherwise() {
                parsed.otherwise_from = Some(parsed.clauses.len());
                continue;
            }
            if self.dummy_it(before) {
                parsed.skipped.push(self.w[before..self.i].join(" "));
                continue;
            }
            let clause_from = self.i;
            let clause = match self.clause() {
                Ok(c) => c,
                // Talk that asks for nothing, up to the next comma: skipped, and said.
                Err(_) if self.skip_talk(before, &mut parsed.skipped) => continue,
                Err(e) => return Err(e),
            };
            if clause.action != Action::Nothing {
                let mut clause = clause;
                // "... take the yellow cup also": a trailing "also" or "too" is the clause's.
                if matches!(self.peek(), Some("also" | "too"))
                    && self.peek_at(1).is_none_or(|w| w == ",")
                {
                    self.i += 1;
                    clause.text.push_str(&format!(" {}", self.w[self.i - 1]));
                }
                clause.corrects = corrects && clauses_before > 0;
                let takes_back = self.w[before..clause_from].iter().any(|w| {
                    matches!(
                        w.as_str(),
                        "scratch" | "no" | "meant" | "forget" | "cancel" | "correction"
                    )
                });
                let adds = clause
                    .text
                    .split(' ')
                    .any(|w| matches!(w, "too" | "also" | "well" | "instead"));
                clause.cancels = clause.corrects
                    && takes_back
                    && !adds
                    && matches!(clause.action, Action::Verb(k) if k != VerbKind::Leave);
                // "Put the yellow cup - actually no, leave the cup": a put broken off before
                // its destination and taken back is dropped, not asked about.
                let broken_off = parsed.clauses.last().is_some_and(|p| {
                    matches!(p.action, Action::Verb(VerbKind::Put) | Action::PutOrPick)
                        && p.dest.is_none()
                        && !p.away
                        && !p.same_place
                });
                if clause.corrects
                    && takes_back
                    && broken_off
                    && !clause.objects.contains(&Item::Pronoun)
                {
                    parsed.clauses.pop();
                    clause.corrects = false;
                }
                // A clause led by "before"/"after" that orders nothing stands as said.
                if let Some(rel) = relative {
                    order_against_previous(&mut parsed.clauses, &mut clause, rel);
                }
                parsed.clauses.push(clause);
            } else if let Some(prev) = parsed.clauses.last_mut() {
                // ", in that order", ", first": order words of their own modify the clause
                // before them.
                prev.as_said |= clause.as_said;
                prev.first |= clause.first;
                prev.last |= clause.last;
            }
            if self.at_end() {
                return Ok(());
            }
            // "we're keeping the cubes for a demo later", "... so I can inspect it from over
            // here": a trailing phrase that names nothing and asks for nothing.
            if !self.at_connector() && self.i > before {
                let end = self.next_comma(self.i);
                let opens = matches!(
                    self.peek(),
                    Some("for" | "before" | "after" | "until" | "from" | "as" | "while")
                );
                if opens && self.asks_nothing(self.i, end, false) || self.run_on_talk(self.i, end) {
                    parsed.skipped.push(self.w[self.i..end].join(" "));
                    self.i = end;
                    continue;
                }
            }
            if !self.at_connector() || self.i == before {
                if self.skip_talk(before, &mut parsed.skipped) {
                    continue;
                }
                return Err(self.unknown(before));
            }
        }
    }

    /// "Put the can on the left in the bin. No wait, sorry, the one on the right.", "Sorry, my
    /// mistake, I meant the green can, not the cup": a correction with objects and no verb of
    /// its own replaces the last object named before it, in this sentence or the one before.
    /// `Ok(true)` when the piece was read so.
    fn correction(&mut self, parsed: &mut Parsed) -> Result<bool, ParseError> {
        let save = self.i;
        let mut corrected = false;
        // "Oh wait, no, ...": fillers around the correction words, and a "no" after them.
        loop {
            let _ = self.eat(",");
            // "no, actually ...": a "no" before the correction words.
            let no_then = self.peek() == Some("no")
                && self.peek_at(1) == Some(",")
                && self.g.corrections.at(self.w, self.i + 2).is_some();
            if no_then {
                self.i += 2;
            }
            // "Put the left green can in the bin. Hmm, no, the other one.": a "no" opening a
            // sentence, then objects, corrects as "no wait" does.
            let opening_no = self.peek() == Some("no")
                && self.peek_at(1) == Some(",")
                && self.w[save..self.i]
                    .iter()
                    .all(|w| w == "," || self.g.fillers.contains_word(w))
                && save == 0;
            if self.eat_phrase(&self.g.corrections)
                || (corrected && self.eat("no"))
                || (opening_no && self.eat("no"))
            {
                corrected = true;
            } else if !self.eat_phrase(&self.g.fillers) {
                break;
            }
        }
        // "Put the blue box in the bin. The orange cube instead.": objects and "instead"
        // alone correct too.
        if !corrected && save == 0 {
            let at = self.i;
            corrected = self.items(at).is_ok() && self.eat("instead") && {
                let _ = self.eat("please");
                self.at_end()
            };
            self.i = at;
        }
        let has_object = parsed
            .clauses
            .last()
            .is_some_and(|c| !c.objects.is_empty() && c.action != Action::Verb(VerbKind::Leave));
        if !corrected || !has_object || self.at_end() {
            self.i = save;
            return Ok(false);
        }
        // "Wait, not that one, the purple box": what it replaces, said first.
        {
            let at = self.i;
            let negated_first =
                self.eat("not") && self.item().is_ok() && self.eat(",") && self.item_ahead();
            if !negated_first {
                self.i = at;
            }
        }
        let from = self.i;
        let Ok(items) = self.items(from) else {
            // "Actually no, wait, leave the red one and do the orange cube instead": a clause
            // of its own follows and says what changes; the correction words are dropped.
            self.i = from;
            return Ok(false);
        };
        // ", not the cup": what it replaces, said again.
        let at = self.i;
        let _ = self.eat(",");
        if !(self.eat("not") && self.items(from).is_ok()) {
            self.i = at;
        }
        // "... the orange cube instead (please)"
        let _ = self.eat("instead");
        let _ = self.eat("please");
        if !(self.at_end() || self.at_connector()) {
            // "actually no, bin the orange cube instead" ("bin" read as the container): a
            // clause of its own follows, as above.
            self.i = from;
            return Ok(false);
        }
        let prev = parsed.clauses.last_mut().expect("checked above");
        let replaced = prev.objects.pop();
        // "no, the other one": other than the one replaced, which therefore does not move.
        let other = items.iter().any(|it| matches!(it, Item::Ref(r) if r.other));
        if let (true, Some(old)) = (other, &replaced) {
            prev.except.push(old.clone());
        }
        for mut it in items {
            // "the one on the right" is one of the kind it replaces: a white can.
            if let (Item::Ref(r), Some(Item::Ref(old))) = (&mut it, &replaced) {
                r.take_kind_of(&old.classes, &old.colors);
            }
            prev.objects.push(it);
        }
        Ok(true)
    }

    /// A presence condition, read up to where the clause it conditions starts: "if the golden
    /// mug is (still) (sitting) on the table", "if there are two white cans (on the table)",
    /// "if the table has two white cans on it", or a question of its own, "is the yellow mug
    /// still on the table?". `None` (cursor unmoved) otherwise.
    fn condition(&mut self, start: usize) -> Option<Clause> {
        let save = self.i;
        let question = matches!(self.peek(), Some("is" | "are"));
        if !(question || self.eat("if")) {
            return None;
        }
        // "if the cup isn't there", "if there is no purple box": the condition negated.
        let mut negated = false;
        let objects = if question {
            self.i += 1;
            let o = self.items(start).ok();
            let _ = self.eat("still");
            let _ = self.on_the_table() || self.eat("there") || self.eat("here");
            o.filter(|_| self.at_end())
        } else if (self.eat("there") && matches!(self.peek(), Some("is" | "are")))
            || self.table_has()
        {
            let _ = self.eat("is") || self.eat("are");
            let _ = self.eat("still");
            negated = self.eat("no") || self.eat("not");
            if negated {
                let _ = self.eat("any");
            }
            let o = self.items(start).ok();
            let _ = self.on_the_table()
                || self.eat_seq(&["on", "it"])
                || self.eat("left")
                || self.eat("there")
                || self.eat("anywhere");
            o
        } else {
            self.i = save + 1;
            let o = self.items(start).ok();
            let present = o.is_some()
                && self.eat_copula()
                && {
                    negated = self.eat("not") || self.eat_seq(&["no", "longer"]);
                    let _ = self.eat("still");
                    true
                }
                && (self.on_the_table()
                    || self.eat("there")
                    || self.eat("here")
                    || self.eat("left")
                    || self.at_end()
                    || self.peek() == Some(","));
            o.filter(|_| present)
        };
        match objects {
            Some(objects) if !objects.is_empty() => {
                let mut c = Clause::new(Action::Bare);
                c.objects = objects;
                c.condition = true;
                c.negated = negated;
                c.text = self.text(start);
                let _ = self.eat(",");
                Some(c)
            }
            _ => {
                self.i = save;
                None
            }
        }
    }

    /// "otherwise", "or else", "if not", "if it isn't (there)", "if there is none": the cursor
    /// after it (and a comma) when it is there.
    fn otherwise(&mut self) -> bool {
        let save = self.i;
        let said = self.eat_seq(&["or", "else"])
            || self.eat("otherwise")
            || self.eat("else")
            || self.eat_seq(&["if", "not"])
            || self.eat_seq(&["and", "if", "not"])
            || self.eat_seq(&["but", "if", "not"])
            || (self.eat("if")
                && (self.eat("it") || self.eat("they") || self.eat("there"))
                && (self.eat("is") || self.eat("are") || self.eat("isn't"))
                && (self.eat("not") || self.eat("none"))
                && {
                    // ("if there is not a purple box, ..." is a condition of its own, not this.)
                    let _ = self.eat("one") || self.eat("any");
                    let _ = self.eat("still");
                    let _ = self.on_the_table() || self.eat("there") || self.eat("here");
                    self.at_end() || matches!(self.peek(), Some("," | "then"))
                });
        if !said {
            self.i = save;
            return false;
        }
        let _ = self.eat(",");
        let _ = self.eat("then");
        // "If not, nothing.": the other branch asks for nothing.
        let rest: Vec<&str> = self.w[self.i..].iter().map(String::as_str).collect();
        // So does leaving things be: "otherwise just leave everything alone" keeps nothing that
        // the other branch would move.
        let rest = match rest.as_slice() {
            ["just", more @ ..] => more,
            all => all,
        };
        let leaves_all = matches!(rest.first(), Some(&("leave" | "keep")))
            && rest
                .iter()
                .any(|w| matches!(*w, "everything" | "all" | "it" | "them" | "alone"))
            && !rest.iter().any(|w| self.g.lexicon.color(w).is_some());
        if leaves_all
            || matches!(
                rest,
                ["nothing"]
                    | ["nothing", "else"]
                    | ["do", "nothing"]
                    | ["leave", "it"]
                    | ["never", "mind"]
                    | ["do", "not", "do", "anything"]
            )
        {
            self.i = self.w.len();
        }
        true
    }

    /// "the table has": the cursor after it when it is there.
    fn table_has(&mut self) -> bool {
        let save = self.i;
        let _ = self.eat("the") || self.eat("this");
        if self.eat_table() && self.eat("has") {
            return true;
        }
        self.i = save;
        false
    }

    /// A closing statement ("that is it", "that is all", grammar.toml `statements`, with the
    /// fillers around it) that runs to the end of the sentence or to a comma: the cursor after
    /// it when there is one.
    fn closing(&mut self) -> bool {
        let save = self.i;
        while self.eat_phrase(&self.g.fillers) || self.eat("and") || self.eat("yeah") {}
        if self.eat_phrase(&self.g.statements) {
            while self.eat_phrase(&self.g.fillers) {}
            // "... and thats all leave the cans be": or a new order right after it.
            if self.at_end()
                || self.eat(",")
                || self.peek().is_some_and(|w| self.g.verb(w).is_some())
            {
                return true;
            }
        }
        self.i = save;
        false
    }

    /// "... and that tall yellow cup as well my grandson left them out and i cant bend down":
    /// talk run on after a request with no comma or full stop, opening with a person ("my
    /// grandson", "i", "we"; not "you", which may be asking), naming and asking for nothing,
    /// and with no word of position, order or quantity ("left" only as a verb: after a
    /// subject, not after "the", "on", "to" ...). Such talk could not change the plan.
    pub(super) fn run_on_talk(&self, from: usize, to: usize) -> bool {
        const PERSONS: &[&str] = &["my", "i", "we", "he", "she", "they", "our", "his", "their"];
        let (g, lex, w) = (self.g, &self.g.lexicon, self.w);
        if !w.get(from).is_some_and(|f| PERSONS.contains(&f.as_str())) {
            return false;
        }
        // A wish or use of the speaker's ("need", "want", "use"); not a past form (narration)
        // nor "like" before a subject, which compares ("like i used to").
        let keeps = |k: usize| {
            let word = w[k].as_str();
            let compares = word == "like"
                && w.get(k + 1).is_some_and(|n| {
                    matches!(n.as_str(), "i" | "we" | "you" | "he" | "she" | "they")
                });
            !word.ends_with("ed")
                && !compares
                && super::super::text::base_forms(word)
                    .iter()
                    .any(|b| g.verbs.need_words.contains(b) || g.verbs.negatable.contains(b))
        };
        let positional = (from..to.min(w.len())).any(|k| {
            let word = w[k].as_str();
            let left_verb = word == "left"
                && k > from
                && !matches!(
                    w[k - 1].as_str(),
                    "the" | "on" | "to" | "at" | "far" | "most" | "your" | "my" | "from" | "of"
                );
            ((lex.sides.at(w, k).is_some() || lex.relations.at(w, k).is_some()) && !left_verb)
                || word.chars().any(|c| c.is_ascii_digit())
                || self.picks_or_orders(k)
                || matches!(word, "except" | "but" | "only" | "instead" | "keep" | "leave")
                // "the other one I am needing", "i still want that": the speaker keeping
                // something is not talk.
                || matches!(word, "still" | "use" | "using" | "drinking" | "saving" | "mine")
                || keeps(k)
        });
        !positional && self.asks_nothing(from, to, false)
    }

    /// "I'd bin it", "I would just put it away": the speaker's suggestion is the order. The
    /// cursor after "i would" when a verb of the planner's follows ("I would like ..." is a
    /// wish, read elsewhere).
    fn suggestion(&mut self) -> bool {
        if !(self.peek() == Some("i") && self.peek_at(1) == Some("would")) {
            return false;
        }
        let mut k = 2;
        while matches!(
            self.peek_at(k),
            Some("just" | "probably" | "maybe" | "simply")
        ) {
            k += 1;
        }
        let verb = self.peek_at(k).is_some_and(|w| {
            self.g.verb(w).is_some() && !self.g.verbs.need_words.iter().any(|n| n == w)
        });
        if verb {
            self.i += k;
        }
        verb
    }

    /// Where the piece of the sentence from `from` ends: the next comma, or the end.
    pub(super) fn next_comma(&self, from: usize) -> usize {
        (from..self.w.len())
            .find(|&k| self.w[k] == ",")
            .unwrap_or(self.w.len())
    }

    /// Skips the piece from `from` to the next comma when it is talk (`is_talk`), and says so.
    fn skip_talk(&mut self, from: usize, skipped: &mut Vec<String>) -> bool {
        // "For the next hour you're on table duty": the talk after the fillers that open it.
        let mut from = from;
        let talk_after_fillers = {
            let mut k = from;
            while let Some(n) = self.g.fillers.at(self.w, k) {
                k += n;
            }
            let end = self.next_comma(k);
            (k > from && k < end && self.is_talk(k, end)).then_some(k)
        };
        if let Some(k) = talk_after_fillers {
            from = k;
        }
        let mut end = self.next_comma(from);
        let order = self.order_after_time_clause(from, end);
        if let Some(k) = order {
            end = k;
        } else if !self.is_talk(from, end) {
            // "i dont really know how you work but i would like ...": talk up to a "but".
            match (from..end).find(|&k| self.w[k] == "but") {
                Some(but) if but > from && self.is_talk(from, but) => end = but,
                _ => return false,
            }
        }
        skipped.push(self.w[from..end].join(" "));
        self.i = end;
        true
    }

    /// "ok quick before the kids get home clear the whole table": a time clause with no comma
    /// after it ends where an order follows it (a verb of the planner's, as an order: not
    /// after "to", a subject or a modal). Where that order starts, when the time clause
    /// before it is talk.
    fn order_after_time_clause(&self, from: usize, end: usize) -> Option<usize> {
        let subordinate = from > 0
            && matches!(
                self.w[from - 1].as_str(),
                "before" | "until" | "while" | "when" | "once" | "because" | "since"
            );
        if !subordinate {
            return None;
        }
        let order_at = |k: usize| {
            self.g.verbs.words.contains_key(&self.w[k])
                && !self.g.safety.people_words.contains(&self.w[k - 1])
                && !matches!(
                    self.w[k - 1].as_str(),
                    "to" | "i"
                        | "you"
                        | "we"
                        | "they"
                        | "he"
                        | "she"
                        | "it"
                        | "will"
                        | "can"
                        | "could"
                        | "would"
                        | "should"
                        | "must"
                        | "might"
                        | "may"
                        | "do"
                        | "did"
                        | "does"
                )
        };
        (from + 2..end).find(|&k| order_at(k) && self.is_talk(from, k))
    }

    /// Connector words that can also open a clause ("then", "next", "finally", "first" ...)
    /// are consumed by the clause itself when they carry order.
    pub(super) fn starts_clause_word(&self) -> bool {
        self.g.first.at(self.w, self.i).is_some() || self.g.last.at(self.w, self.i).is_some()
    }

    pub(super) fn clause(&mut self) -> Result<Clause, ParseError> {
        let start = self.i;
        let mut c = Clause::new(Action::Nothing);
        let mut negated = false;
        // Openers: politeness, order words, "only", negation.
        loop {
            if self.eat_phrase(&self.g.first) {
                c.first = true;
            } else if self.eat_phrase(&self.g.last) {
                c.last = true;
            } else if self.eat_phrase(&self.g.as_said) {
                c.as_said = true;
            } else if self.eat("only") || self.eat("just") {
                c.only = true;
            } else if self.peek() == Some("no")
                && self.peek_at(1).is_some_and(|w| self.g.verb(w).is_some())
            {
                // "no put in bin": a learner's "don't put it in the bin".
                self.i += 1;
                negated = true;
            } else if self.peek() == Some("you")
                && self.i == start
                && self.peek_at(1).is_some_and(|w| {
                    self.g.verb(w).is_some() && !w.ends_with("ed") && !w.ends_with("ing")
                })
            {
                // "you take the blue box and put it in the bin": an order said to "you".
                self.i += 1;
            } else if self.eat_seq(&["let", "us", "start", "by"])
                || self.eat_seq(&["let", "us", "begin", "by"])
                || self.eat_seq(&["start", "by"])
                || self.eat_seq(&["begin", "by"])
                || self.eat_seq(&["starting", "by"])
            {
                // "Start by binning the orange cube": the first step.
                c.first = true;
            } else if self.suggestion() {
            } else if (self.peek() == Some("do")
                && self.g.fillers.at(self.w, self.i).is_some_and(|n| n > 2))
                || (matches!(self.peek(), Some("not" | "no" | "never" | "without"))
                    && self.g.fillers.at(self.w, self.i).is_some_and(|n| n > 1))
            {
                // "don't worry about those", "not throwing": a filler, not a negated order.
                self.eat_phrase(&self.g.fillers);
            } else if self.g.verbs.hold_tails.at(self.w, self.i).is_some() {
                // "..., do not bin it": a hold tail that starts with its negation.
                break;
            } else if self.eat_seq(&["do", "not"])
                || self.eat_seq(&["does", "not"])
                || self.eat("never")
                || self.eat("not")
                || self.eat_seq(&["please", "do", "not"])
            {
                negated = true;
            } else if self.eat_phrase(&self.g.fillers) {
            } else {
                break;
            }
        }
        if self.at_end() || self.at_connector() {
            c.text = self.text(start);
            return Ok(c);
        }
        if self.eat_phrase(&self.g.statements) {
            c.text = self.text(start);
            return Ok(c);
        }
        // "... and hold it", "keep hold of it": the pick before it is all there is to do.
        {
            let save = self.i;
            let held = self.eat_phrase(&self.g.verbs.hold_tails);
            // "hold it dont put it anywhere just hold it": tails and fillers run on.
            while held
                && !self.at_connector()
                && (self.eat_phrase(&self.g.fillers) || self.eat_phrase(&self.g.verbs.hold_tails))
            {
            }
            if held && (self.at_end() || self.at_connector()) {
                // A pick of what "it" means: one with the pick before it ("pick up the cup and
                // hold it"), or the only act after a remark ("I want to look at the cup, keep
                // it in your hand").
                c.action = Action::Verb(VerbKind::Pick);
                c.objects = vec![Item::Pronoun];
                c.hold_tail = true;
                c.text = self.text(start);
                return Ok(c);
            }
            self.i = save;
        }
        if let Some(c2) = self.there_is(start) {
            return Ok(c2);
        }
        // Questions that name objects for a later "it": "is there a cup on the table? (if so)
        // put it in the bin", "which item is farthest from you? put that one away".
        if self.eat_seq(&["is", "there"])
            || self.eat_seq(&["are", "there"])
            || self.eat_seq(&["do", "you", "see"])
            || self.eat_seq(&["can", "you", "see"])
            || self.eat_seq(&["you", "see"])
            || self.eat("see")
            || self.eat("notice")
            || self.eat_seq(&["look", "at"])
            || self.eat_seq(&["there", "is"])
            || self.eat_seq(&["there", "are"])
            // "You missed a can. The one further away from you. Put that one in the bin."
            || self.eat_seq(&["you", "missed"])
            || self.eat_seq(&["you", "forgot"])
            || self.eat_seq(&["you", "skipped"])
            || self.eat_seq(&["you", "did", "not", "get"])
        {
            c.objects = self.items(start)?;
            c.action = Action::Bare;
            self.tail(&mut c, start, true)?;
            c.text = self.text(start);
            return Ok(c);
        }
        if matches!(self.peek(), Some("which" | "what"))
            && !matches!(self.peek_at(1), Some("is" | "are"))
        {
            self.i += 1;
            let mut r = self.blank_ref(Quantity::Definite);
            self.head(&mut r)?;
            if self.eat_copula() {
                let negative = self.eat("not");
                if !self.predicate(&mut r, negative)? {
                    return Err(self.unknown(start));
                }
            }
            self.postmodifiers(&mut r)?;
            r.text = self.text(start);
            c.objects = vec![Item::Ref(r)];
            c.action = Action::Bare;
            c.text = self.text(start);
            return Ok(c);
        }
        if self.eat_phrase(&self.g.start_with) {
            c.action = Action::StartWith;
            c.objects = self.items(start)?;
            self.tail(&mut c, start, false)?;
            c.text = self.text(start);
            return Ok(c);
        }
        if let Some(c2) = self.look_at(start) {
            return Ok(c2);
        }
        // "I need the table cleared", "I'd like the cups in the bin".
        let save = self.i;
        let _ = self.eat("i") || self.eat("we");
        let _ = self.eat("would") || self.eat("should") || self.eat("really");
        if self
            .peek()
            .is_some_and(|w| self.g.verbs.need_words.iter().any(|n| n == w))
        {
            self.i += 1;
            if let Some(c2) = self.need_clause(start)? {
                return Ok(c2);
            }
        }
        self.i = save;
        // "can everything go in the bin?", "should the cups go in the bin?".
        if matches!(
            self.peek(),
            Some("can" | "could" | "would" | "will" | "should" | "shall")
        ) && self.verb().is_none()
        {
            self.i += 1;
            if !self.item_ahead() {
                self.i -= 1;
            }
        }
        // "we're keeping the cubes", "I'm leaving the box": the speaker saying what stays.
        {
            let save = self.i;
            if (self.eat_seq(&["i", "am"]) || self.eat_seq(&["we", "are"]))
                && self.peek().is_some_and(|w| {
                    self.g
                        .verb(w)
                        .is_some_and(|(_, kinds)| kinds == [VerbKind::Leave])
                })
            {
                self.i += 1;
                c.action = Action::Verb(VerbKind::Leave);
                c.objects = self.items(start)?;
                self.tail(&mut c, start, false)?;
                c.text = self.text(start);
                return Ok(c);
            }
            self.i = save;
        }
        if let Some(c2) = self.speaker_keeps(start)? {
            return Ok(c2);
        }
        if let Some(c2) = self.narration(start) {
            return Ok(c2);
        }
        // "do the rest", "do the box last": the verb of the request. "then do the same with
        // the far cup": likewise.
        if !negated && self.peek() == Some("do") {
            self.i += 1;
            let same = self.i;
            if self.eat_seq(&["the", "same"]) {
                let _ = self.eat("thing");
                if !(self.eat("with") || self.eat("for") || self.eat("to")) {
                    self.i = same;
                }
            }
            if self.item_ahead() {
                c.objects = self.items(start)?;
                c.action = Action::Bare;
                self.tail(&mut c, start, false)?;
                c.text = self.text(start);
                return Ok(c);
            }
            self.i -= 1;
        }
        // A verb, maybe phrasal ("throw away", "pick up").
        if let Some((kind, base)) = self.verb() {
            if negated {
                if kind.is_none() && !self.g.verbs.negatable.contains(&base) {
                    return Err(self.unknown(start));
                }
                c.action = Action::Verb(VerbKind::Leave);
                c.avoid = self.g.verbs.avoid_negated.contains(&base);
            } else {
                let Some(kind) = kind else {
                    self.i -= 1;
                    return Err(self.unknown(start));
                };
                c.action = kind;
                c.avoid = self.g.verbs.avoid.contains(&base);
            }
            self.verb_phrase(&mut c, start, &base)?;
            c.text = self.text(start);
            return Ok(c);
        }
        if negated {
            // "not the cups", "never the red ones".
            c.action = Action::Verb(VerbKind::Leave);
            c.objects = self.items(start)?;
            self.tail(&mut c, start, false)?;
            c.text = self.text(start);
            return Ok(c);
        }
        // "X, then Y, all into the bin": "all" (or "both", "each") before a destination alone
        // means the objects just named, not everything ("all -> bin" first in a request is
        // everything).
        if start > 0 && matches!(self.peek(), Some("all" | "both" | "each")) {
            self.i += 1;
            if !self.dest_ahead() {
                self.i -= 1;
            }
        }
        // Verbless: a destination alone, or objects first ("the cups go in the bin").
        if let Some(d) = self.dest()? {
            c.action = Action::DestOnly;
            c.dest = Some(d);
            self.tail(&mut c, start, false)?;
            c.text = self.text(start);
            return Ok(c);
        }
        if self.except_word() {
            // ", except the cups" as its own clause.
            c.action = Action::Verb(VerbKind::Leave);
            c.objects = self.items(start)?;
            c.text = self.text(start);
            return Ok(c);
        }
        c.objects = self.items(start)?;
        self.subject_tail(&mut c, start)?;
        c.text = self.text(start);
        Ok(c)
    }

    /// After a subject: "goes in the bin", "stays", "first", or nothing.
    pub(super) fn subject_tail(&mut self, c: &mut Clause, start: usize) -> Result<(), ParseError> {
        let universal = c
            .objects
            .iter()
            .any(|o| matches!(o, Item::Ref(r) if r.quantity == Quantity::All));
        if self.except_word() || (universal && self.eat("but")) {
            c.except = self.items(start)?;
        }
        // "the other one I am needing", "that one I still need": the objects first, then the
        // speaker's need of them, as learners often say it: they stay.
        if let Some(n) = self.speaker_keeps_len() {
            let save = self.i;
            self.i += n;
            let _ = self.eat("it") || self.eat("them") || self.eat("still");
            if self.at_end() || self.at_connector() {
                c.action = Action::Verb(VerbKind::Leave);
                return Ok(());
            }
            self.i = save;
        }
        // "the blue box you put in bin", "the cup and the cube, these you are putting in the
        // bin": the objects first and then the verb, as learners of English often say it.
        {
            let save = self.i;
            let objects = c.objects.len();
            if objects > 1 && c.objects.last() == Some(&Item::Pronoun) {
                c.objects.pop();
            }
            let _ = self.eat("please");
            // "The blue box that's further back, can you put that one in the bin?": the
            // objects, then a question that says them again.
            let asked = {
                let at = self.i;
                let ok = self.eat(",")
                    && matches!(self.peek(), Some("can" | "could" | "would" | "will"))
                    && self.peek_at(1) == Some("you");
                if ok {
                    self.i += 1;
                } else {
                    self.i = at;
                }
                ok
            };
            if self.eat("you") {
                while matches!(
                    self.peek(),
                    Some("are" | "can" | "could" | "will" | "must" | "should" | "please" | "just")
                ) {
                    self.i += 1;
                }
                if let Some((Some(kind), _)) = self.verb() {
                    c.action = match kind {
                        Action::PutOrPick => Action::Verb(VerbKind::Put),
                        k => k,
                    };
                    if asked {
                        let _ = self.eat_seq(&["that", "one"])
                            || self.eat_seq(&["this", "one"])
                            || self.eat("it")
                            || self.eat("them")
                            || self.eat("that")
                            || self.eat("those");
                    }
                    return self.tail(c, start, true);
                }
            }
            self.i = save;
            // "the cup yellow far away, this one put in bin": the pronoun only says the
            // objects again when a verb follows it.
            let verb_next = self.peek().is_some_and(|w| self.g.verb(w).is_some());
            if c.objects.len() < objects && !verb_next {
                c.objects.push(Item::Pronoun);
            }
        }
        // "the blue box has my receipts in it, so ...": what an object holds, said of it; a
        // remark that names it for a later "that" ("has to go", "has been binned" are not).
        if matches!(self.peek(), Some("has" | "have" | "contains" | "contain"))
            && !matches!(self.peek_at(1), Some("to" | "been" | "got" | "gone" | "be"))
        {
            let from = self.i + 1;
            let to = self.next_comma(from);
            if to > from && self.asks_nothing(from, to, false) && self.binds_nothing(from, to) {
                self.i = to;
                c.action = Action::Bare;
                c.remark = true;
                return Ok(());
            }
        }
        // Modals and copulas: "should go", "can stay", "is staying", "needs to go".
        const MODALS: &[&str] = &[
            "should",
            "can",
            "must",
            "will",
            "could",
            "may",
            "shall",
            "is",
            "are",
            "need",
            "needs",
            "has",
            "have",
            "to",
            "be",
            "all",
            "both",
            "just",
            "also",
            "been",
            "was",
            "were",
            "probably",
            "definitely",
            "maybe",
            "perhaps",
            "surely",
        ];
        // ("cups to the bin": "to" starts a destination there, not "to go").
        let (mut copula, mut been) = (false, false);
        while self.peek().is_some_and(|w| MODALS.contains(&w)) && !self.dest_ahead() {
            copula |= matches!(self.peek(), Some("is" | "are" | "was" | "were" | "been"));
            been |= self.peek() == Some("been");
            self.i += 1;
        }
        // "the nearer yellow cup is probably empty by now": a state the scene does not
        // record, said of an object (not of the table: "the table is empty" asks for it).
        // So is where it "has been sitting" or "lying" (not "is sitting": "the cup is
        // sitting there, bin the rest" may say where it stays), and "done for".
        let state = copula
            && !c.objects.contains(&Item::Table)
            && self.peek().is_some_and(|w| {
                (self.g.lexicon.unchecked.iter().any(|u| u == w)
                    && self
                        .g
                        .verbs
                        .done_words
                        .at(self.w, self.i)
                        .is_none_or(|_| w == "empty"))
                    || (been && matches!(w, "sitting" | "lying" | "resting" | "standing"))
                    || (w == "done" && self.peek_at(1) == Some("for"))
                    // "the blue box is in my way": where it is a nuisance, not where to put it.
                    || (w == "in"
                        && matches!(self.peek_at(1), Some("my" | "the" | "our" | "your"))
                        && self.peek_at(2) == Some("way"))
            });
        // "the yellow cup is chipped, so throw it away": a remark that names the objects for
        // a later "it"; what it says of them is not checked.
        // Also "... looks like it has a chip", "... is leaking a little": a word the grammar
        // lacks, and then nothing that names an object or asks for anything, to the comma.
        let remark_from = self.i;
        let remark_to = self.next_comma(remark_from);
        // "the boxes are the experiment samples, leave them", "the pink cup was my grandma's":
        // what they are or whose, said of them.
        let what_they_are = copula
            && !c.objects.contains(&Item::Table)
            && matches!(
                self.peek(),
                Some(
                    "the"
                        | "a"
                        | "an"
                        | "my"
                        | "our"
                        | "his"
                        | "her"
                        | "their"
                        | "your"
                        | "mine"
                        | "ours"
                        | "hers"
                        | "theirs"
                        | "yours"
                )
            )
            && self.binds_nothing(remark_from, remark_to);
        if (state || what_they_are || self.peek().is_some_and(|w| !self.g.knows(w)))
            && remark_to > remark_from
            && self.asks_nothing(remark_from + usize::from(state), remark_to, false)
        {
            self.i = remark_to;
            c.action = Action::Bare;
            c.remark = true;
            return Ok(());
        }
        // "the cans should be thrown away", "the table is cleaned up".
        if let Some((k, n)) = self.g.verbs.done_words.at(self.w, self.i) {
            if n > 1 || self.g.verb(&self.w[self.i]).is_none() {
                self.i += n;
                c.action = Action::Verb(k);
                return self.tail(c, start, true);
            }
        }
        let w = self.peek().unwrap_or_default().to_string();
        // "the box should be put in the bin", "the table is cleared", "the table is clear".
        if !Grammar::is_form_of(&w, &self.g.verbs.go_verbs) {
            let save = self.i;
            if let Some((Some(kind), _)) = self.verb() {
                c.action = match kind {
                    Action::PutOrPick => Action::Verb(VerbKind::Put),
                    k => k,
                };
                if c.action == Action::Verb(VerbKind::Clear) && !c.objects.contains(&Item::Table) {
                    c.action = Action::Verb(VerbKind::Discard);
                }
                // "everything that is red put it in the bin": the objects said again.
                let at = self.i;
                if !(self.eat("it") || self.eat("them") || self.eat_seq(&["all", "of", "them"])) {
                    self.i = at;
                }
                return self.tail(c, start, true);
            }
            self.i = save;
        }
        if Grammar::is_form_of(&w, &self.g.verbs.stay_verbs) {
            self.i += 1;
            c.action = Action::Verb(VerbKind::Leave);
            let _ = self.eat("put") || self.eat_phrase(&self.g.verbs.leave_tails);
            return self.tail(c, start, false);
        }
        if Grammar::is_form_of(&w, &self.g.verbs.go_verbs) || w == "going" {
            self.i += 1;
            let _ = self.eat("put");
            c.action = Action::Verb(VerbKind::Put);
            self.tail(c, start, true)?;
            // "the purple box can go": away, with no place said.
            if c.dest.is_none() && !c.same_place {
                c.action = Action::Verb(VerbKind::Discard);
                c.away = true;
            }
            return Ok(());
        }
        c.action = Action::Bare;
        self.tail(c, start, true)
    }

    /// "There's a purple box near the left edge", "I believe there's a little yellow cup on
    /// the table somewhere": what is there, named for a later "it". Where it is said to be,
    /// beyond what the reference itself reads, is not checked. Read to the next comma.
    pub(super) fn there_is(&mut self, start: usize) -> Option<Clause> {
        const BELIEVE: &[&str] = &[
            "believe", "think", "guess", "reckon", "see", "notice", "noticed", "suppose", "know",
        ];
        let save = self.i;
        // "I believe there's ...", "we think there are ...".
        if self.eat("i") || self.eat("we") {
            if self.peek().is_some_and(|w| BELIEVE.contains(&w)) {
                self.i += 1;
                let _ = self.eat("that");
            } else {
                self.i = save;
            }
        }
        let there = self.eat_seq(&["there", "is"])
            || self.eat_seq(&["there", "are"])
            || self.eat_seq(&["there", "was"])
            || self.eat_seq(&["there", "were"])
            || self.eat_seq(&["there", "should", "be"]);
        if !there {
            self.i = save;
            return None;
        }
        // The longest reference that reads ("a purple box", where "near the left edge" names
        // no object to relate to).
        let end = self.next_comma(self.i);
        let from = self.i;
        let read = (from + 1..=end).rev().find_map(|k| {
            let mut p = Parser {
                g: self.g,
                w: &self.w[..k],
                i: from,
            };
            match p.items(start) {
                Ok(o) if !o.is_empty() && o.iter().all(|o| matches!(o, Item::Ref(_))) => {
                    Some((o, p.i))
                }
                _ => None,
            }
        });
        let Some((objects, after)) = read else {
            self.i = save;
            return None;
        };
        self.i = after;
        // The rest says where: no verb, nothing else named ("near the left edge").
        let lex = &self.g.lexicon;
        let says_where = (self.i..end).all(|k| {
            let w = self.w[k].as_str();
            matches!(w, "left" | "right")
                || (self.g.verb(w).is_none()
                    && lex.color(w).is_none()
                    && lex.containers.at(self.w, k).is_none()
                    && lex
                        .class_at(self.w, k)
                        .is_none_or(|(c, _, _)| c.iter().any(|c| c == "*")))
        });
        if !says_where {
            self.i = save;
            return None;
        }
        self.i = end;
        let mut c = Clause::new(Action::Bare);
        c.objects = objects;
        c.remark = true;
        c.text = self.text(start);
        Some(c)
    }

    /// "I still need the other can", "I'll use them as props", "I want to rinse the cans
    /// first": the speaker doing something of their own with objects, which therefore stay.
    /// The verb is none of the planner's (those ask the robot: "I'll put the cup away" is not
    /// read here), nor a past one (narration: "I left the cup out"), nor a correction ("I
    /// meant the can").
    pub(super) fn speaker_keeps(&mut self, start: usize) -> Result<Option<Clause>, ParseError> {
        const AUX: &[&str] = &[
            "am", "are", "will", "would", "still", "also", "really", "just", "do", "then", "later",
            "first", "going", "gonna", "be",
        ];
        const PAST: &[&str] = &[
            "left", "took", "got", "kept", "brought", "held", "made", "gave", "put", "meant",
            "said", "told", "bought", "found", "saw", "thought", "had", "was", "were", "did",
        ];
        let save = self.i;
        let back = |p: &mut Self| {
            p.i = save;
            Ok(None)
        };
        if !(self.eat("i") || self.eat("we")) {
            return back(self);
        }
        while self.peek().is_some_and(|w| AUX.contains(&w)) {
            self.i += 1;
        }
        let need = self
            .peek()
            .is_some_and(|w| self.g.verbs.need_words.iter().any(|n| n == w));
        // "I need those": the objects follow; "I want to rinse them": a verb does.
        let mut verb_follows = true;
        if need {
            self.i += 1;
            verb_follows = self.eat("to");
        }
        let Some(v) = self.peek().map(str::to_string) else {
            return back(self);
        };
        let own_verb = self.g.verb(&v).is_none()
            && self.g.verbs.done_words.at(self.w, self.i).is_none()
            && self.g.lexicon.color(&v).is_none()
            && self.g.lexicon.class_at(self.w, self.i).is_none()
            && self.g.lexicon.containers.at(self.w, self.i).is_none()
            && !v.ends_with("ed")
            && !PAST.contains(&v.as_str())
            && !matches!(
                v.as_str(),
                "the" | "a" | "an" | "to" | "be" | "is" | "not" | ","
            );
        if verb_follows {
            if own_verb {
                self.i += 1;
                // "play with", "drink from", "drink out of", "work on".
                let _ = self.eat("with")
                    || self.eat("from")
                    || self.eat_seq(&["out", "of"])
                    || self.eat("on");
            } else if !need {
                return back(self);
            }
        }
        let Ok(objects) = self.items(start) else {
            return back(self);
        };
        // "I need the table for dinner, so ...": a reason for the request, not a request to
        // move the table. It moves nothing (what "cleared" would ask is read by need_clause).
        // ("I need the table moved" asks to move it: refused as that.)
        let moves_it = self.peek().is_some_and(|w| {
            self.g.verb(w).is_some()
                || w.ends_with("ed")
                || self.g.verbs.done_words.at(self.w, self.i).is_some()
        });
        if need && !moves_it && !objects.is_empty() && objects.iter().all(|o| *o == Item::Table) {
            let mut c = Clause::new(Action::Bare);
            c.objects = objects;
            c.remark = true;
            self.i = self.next_comma(self.i);
            c.text = self.text(start);
            return Ok(Some(c));
        }
        while matches!(
            self.peek(),
            Some("later" | "tomorrow" | "tonight" | "soon" | "afterwards" | "today" | "again")
        ) {
            self.i += 1;
        }
        // Only named objects or "them": "I'm sorting things out" keeps nothing in particular.
        let named = objects.iter().all(|o| match o {
            Item::Pronoun => true,
            Item::Ref(r) => r.names_kind(),
            Item::Table | Item::Container(_) => false,
        });
        if !named {
            return back(self);
        }
        let mut c = Clause::new(Action::Verb(VerbKind::Leave));
        c.objects = objects;
        // "... for a demo this afternoon": a trailing phrase the sentence skips as talk.
        let after_objects = self.i;
        if self.tail(&mut c, start, false).is_err() {
            self.i = after_objects;
        }
        c.text = self.text(start);
        Ok(Some(c))
    }

    /// "My daughter made that orange cube in art class", "the kids left their stuff out":
    /// someone telling what happened, in the past. It asks for nothing; the objects it names
    /// are what a later "it" means. Read to the next comma.
    pub(super) fn narration(&mut self, start: usize) -> Option<Clause> {
        const PAST: &[&str] = &[
            "left", "made", "took", "brought", "got", "bought", "found", "gave", "kept", "built",
            "drew", "painted", "won", "forgot", "used",
        ];
        let save = self.i;
        let person = match self.peek() {
            Some("she" | "he" | "they" | "i" | "we") => {
                self.i += 1;
                true
            }
            Some("my" | "our" | "his" | "her" | "their" | "the") => {
                // One word for who it was: "my daughter", "the kids", "our flatmate".
                let noun = self.peek_at(1).is_some_and(|w| {
                    !self.g.knows(w) || self.g.safety.people_words.iter().any(|p| p == w)
                });
                if noun {
                    self.i += 2;
                }
                noun
            }
            _ => false,
        };
        while matches!(
            self.peek(),
            Some("just" | "always" | "already" | "again" | "also")
        ) {
            self.i += 1;
        }
        // "My sister collects pink cups", "my son loves the red cube": what someone does or
        // likes, in the present (a verb with a person before it is not said to the robot, even
        // one of the planner's).
        let third_person = self.w[save..self.i]
            .first()
            .is_some_and(|w| !matches!(w.as_str(), "i" | "we" | "they"));
        let present = |w: &str| {
            third_person
                && w.len() > 3
                && w.ends_with('s')
                && !w.ends_with("ss")
                && self.g.verbs.done_words.at(self.w, self.i).is_none()
                && !Grammar::is_form_of(w, &self.g.verbs.go_verbs)
                && !Grammar::is_form_of(w, &self.g.verbs.stay_verbs)
                && !Grammar::is_form_of(w, &self.g.verbs.need_words)
                && self.g.lexicon.color(w).is_none()
                && self.g.lexicon.class_at(self.w, self.i).is_none()
                && !matches!(w, "is" | "was" | "has" | "does" | "needs" | "wants")
        };
        let past = self.peek().is_some_and(|w| {
            PAST.contains(&w) || (w.ends_with("ed") && self.g.verb(w).is_none()) || present(w)
        });
        if !person || !past {
            self.i = save;
            return None;
        }
        self.i += 1;
        let from = self.i;
        let end = self.next_comma(from);
        // Without objects it only sets the scene: nothing to keep. "I changed my mind about the
        // boxes": the objects it is about.
        let mut c = Clause::new(Action::Nothing);
        let about = (from..end).find(|&k| self.w[k] == "about").map(|k| k + 1);
        for at in std::iter::once(from).chain(about) {
            self.i = at;
            if let Ok(objects) = self.items(from) {
                c.action = Action::Bare;
                c.objects = objects;
                break;
            }
        }
        self.i = end;
        c.text = self.text(start);
        Some(c)
    }

    /// "I want to look at the blue box up close, keep it in your hand", "I need to check the
    /// label on the cup": the speaker means to look at an object. A remark: it names what the
    /// next "it" means and moves nothing itself.
    fn look_at(&mut self, start: usize) -> Option<Clause> {
        let save = self.i;
        let _ = self.eat("i") || self.eat("we");
        let _ = self.eat("would") || self.eat("really") || self.eat("just");
        let wants = (matches!(self.peek(), Some("want" | "need" | "like" | "wanna")) && {
            self.i += 1;
            self.eat("to") || self.w[self.i - 1] == "wanna"
        }) || self.eat_seq(&["let", "me"]);
        const LOOKS: &[&[&str]] = &[
            &["have", "a", "look", "at"],
            &["take", "a", "look", "at"],
            &["have", "a", "closer", "look", "at"],
            &["take", "a", "closer", "look", "at"],
            &["look", "at"],
            &["check", "out"],
            &["see"],
            &["check"],
            &["inspect"],
            &["examine"],
            &["study"],
        ];
        let look = wants && LOOKS.iter().any(|l| self.eat_seq(l));
        if !look {
            self.i = save;
            return None;
        }
        // "the label on the cup", "the bottom of the mug": a part of the object.
        let part = self.i;
        if !(self.eat("the") && self.peek().is_some_and(|w| !self.g.knows(w)) && {
            self.i += 1;
            self.eat("on") || self.eat("of")
        }) {
            self.i = part;
        }
        let Ok(objects) = self.items(start) else {
            self.i = save;
            return None;
        };
        let _ = self.eat_seq(&["up", "close"])
            || self.eat_seq(&["more", "closely"])
            || self.eat("closely")
            || self.eat("properly");
        while !self.at_connector() && self.eat_phrase(&self.g.fillers) {}
        if !(self.at_end() || self.at_connector()) {
            self.i = save;
            return None;
        }
        let mut c = Clause::new(Action::Bare);
        c.objects = objects;
        c.remark = true;
        c.text = self.text(start);
        Some(c)
    }

    /// "I need/want/would like X cleared / in the bin / gone".
    pub(super) fn need_clause(&mut self, start: usize) -> Result<Option<Clause>, ParseError> {
        let save = self.i;
        let _ = self.eat("to") && self.eat("have");
        let mut c = Clause::new(Action::Verb(VerbKind::Discard));
        let objects = match self.items(start) {
            Ok(o) => o,
            Err(_) => {
                self.i = save;
                return Ok(None);
            }
        };
        // "I'd like everything but the cans cleared away".
        let universal = objects
            .iter()
            .any(|o| matches!(o, Item::Ref(r) if r.quantity == Quantity::All));
        if self.except_word() || (universal && self.eat("but")) {
            c.except = self.items(start)?;
        }
        // "to be put", "to go in the bin".
        if self.eat("to")
            && !self.eat("be")
            && self
                .peek()
                .is_some_and(|w| Grammar::is_form_of(w, &self.g.verbs.go_verbs))
        {
            self.i += 1;
        }
        let _ = self.eat("put");
        // "I should like both red blocks placed in the bin": a participle of moving.
        if self.peek().is_some_and(|w| {
            w.ends_with("ed")
                && self
                    .g
                    .verb(w)
                    .is_some_and(|(_, kinds)| kinds.contains(&VerbKind::Put))
        }) {
            self.i += 1;
        }
        while self.eat_phrase(&self.g.fillers) {}
        // "I need the cup." says nothing of moving it (the speaker may be keeping it).
        if self.at_end() || self.at_connector() {
            self.i = save;
            return Ok(None);
        }
        {
            if let Some((k, n)) = self.g.verbs.done_words.at(self.w, self.i) {
                self.i += n;
                c.action = Action::Verb(k);
            } else if self.dest()?.map(|d| c.dest = Some(d)).is_none() {
                self.i = save;
                return Ok(None);
            }
        }
        c.objects = objects;
        self.tail(&mut c, start, false)?;
        c.text = self.text(start);
        Ok(Some(c))
    }

    /// The verb at the cursor (its kind, if it has one; negatable-only verbs have none), and
    /// its base form; a particle right after it is taken with it.
    pub(super) fn verb(&mut self) -> Option<(Option<Action>, String)> {
        let w = self.peek()?.to_string();
        let bases = super::super::text::base_forms(&w);
        if let Some(particle) = self.peek_at(1) {
            for b in &bases {
                if let Some(k) = self.g.verbs.phrasal.get(&(b.clone(), particle.to_string())) {
                    self.i += 2;
                    // "get rid of", "dispose of", "do away with".
                    let _ = self.eat("of") || self.eat("with");
                    return Some((Some(Action::Verb(*k)), b.clone()));
                }
            }
        }
        if let Some((base, kinds)) = self.g.verb(&w) {
            self.i += 1;
            let action = if kinds.contains(&VerbKind::Put) && kinds.contains(&VerbKind::Pick) {
                Action::PutOrPick
            } else {
                Action::Verb(*kinds.iter().min().expect("a verb has a kind"))
            };
            return Some((Some(action), base));
        }
        // "throw the cans away": a phrasal verb split by its object.
        for b in &bases {
            for k in 2..9 {
                let Some(p) = self.peek_at(k) else { break };
                if CONNECTORS.contains(&p) {
                    break;
                }
                if let Some(kind) = self.g.verbs.phrasal.get(&(b.clone(), p.to_string())) {
                    self.i += 1;
                    return Some((Some(Action::Verb(*kind)), b.clone()));
                }
            }
        }
        if let Some(b) = bases.iter().find(|b| self.g.verbs.negatable.contains(b)) {
            self.i += 1;
            return Some((None, b.clone()));
        }
        None
    }

    pub(super) fn verb_phrase(
        &mut self,
        c: &mut Clause,
        start: usize,
        verb: &str,
    ) -> Result<(), ParseError> {
        if self.eat("only") || self.eat("just") {
            c.only = true;
        }
        let clears = c.action == Action::Verb(VerbKind::Clear);
        // Clearing needs no object ("tidy up"); every other verb names one.
        let optional = clears || self.at_end() || self.at_connector() || self.dest_ahead();
        if !optional || self.item_ahead() {
            c.objects = self.items(start)?;
        }
        // "put in the bin the thing farther from you": the destination before the objects.
        if c.objects.is_empty() && !clears && self.dest_ahead() {
            let save = self.i;
            match self.dest()? {
                Some(d) if self.item_ahead() => {
                    c.dest = Some(d);
                    c.objects = self.items(start)?;
                }
                _ => self.i = save,
            }
        }
        // "clear the bench of cubes": the objects after "of" leave the table.
        if clears && c.objects == [Item::Table] && self.peek() == Some("of") {
            self.i += 1;
            c.objects = self.items(start)?;
            c.from_table = true;
        }
        // A particle after the object: "put the cups away", "pick the cube up"; not the start
        // of a source ("clear everything off the table").
        let source_follows = matches!(self.peek_at(1), Some("the" | "this" | "that" | "of"))
            || self.g.lexicon.table.at(self.w, self.i + 1).is_some();
        if let Some(p) = self.peek().filter(|_| !source_follows) {
            if let Some(k) = self.g.verbs.phrasal.get(&(verb.to_string(), p.to_string())) {
                self.i += 1;
                if c.action != Action::Verb(VerbKind::Leave) {
                    c.action = Action::Verb(*k);
                }
            }
        }
        self.tail(c, start, false)
    }

    pub(super) fn item_ahead(&self) -> bool {
        let mut probe = Parser {
            g: self.g,
            w: self.w,
            i: self.i,
        };
        probe.item().is_ok()
    }

    pub(super) fn dest_ahead(&self) -> bool {
        let mut probe = Parser {
            g: self.g,
            w: self.w,
            i: self.i,
        };
        matches!(probe.dest(), Ok(Some(_)))
    }

    pub(super) fn except_word(&mut self) -> bool {
        self.eat_seq(&["except", "for"])
            || self.eat("except")
            || self.eat_seq(&["but", "not"])
            || self.eat_seq(&["other", "than"])
            || self.eat_seq(&["apart", "from"])
            || self.eat_seq(&["aside", "from"])
            || self.eat("besides")
            || self.eat("excluding")
            || self.eat_seq(&["save", "for"])
            || self.eat("minus")
            || self.eat_seq(&["with", "the", "exception", "of"])
            || self.eat_seq(&["with", "the", "sole", "exception", "of"])
            || self.eat_seq(&["with", "the", "only", "exception", "of"])
            || self.eat_seq(&["not", "including"])
            || self.eat("leaving")
            || self.eat("without")
    }

    /// Clause modifiers after the objects: source, destination, exceptions, order words,
    /// politeness. Stops at a connector or the end.
    pub(super) fn tail(
        &mut self,
        c: &mut Clause,
        start: usize,
        subject: bool,
    ) -> Result<(), ParseError> {
        loop {
            if self.at_end() {
                return Ok(());
            }
            let save = self.i;
            if self.eat("away") {
                c.away = true;
                continue;
            }
            // "put the box in first".
            if self.peek() == Some("in")
                && (self.g.first.at(self.w, self.i + 1).is_some()
                    || self.g.last.at(self.w, self.i + 1).is_some())
            {
                // "the green can goes in first": into the container.
                self.i += 1;
                c.same_place = true;
                continue;
            }
            if self.eat_phrase(&self.g.first) {
                c.first = true;
                continue;
            }
            // "the cup first and the purple box second": the next in the leading chain.
            if matches!(self.peek(), Some("second" | "third" | "fourth" | "fifth"))
                && self
                    .peek_at(1)
                    .is_none_or(|n| CONNECTORS.contains(&n) || n == "and")
            {
                self.i += 1;
                c.first = true;
                continue;
            }
            // "hold the orange cube up": the particle after the object.
            if matches!(c.action, Action::Verb(VerbKind::Pick) | Action::PutOrPick)
                && self.peek() == Some("up")
            {
                self.i += 1;
                continue;
            }
            if self.eat_phrase(&self.g.last) {
                c.last = true;
                continue;
            }
            if self.eat_phrase(&self.g.as_said) {
                c.as_said = true;
                continue;
            }
            // "leave the cup for last", "save the box till the end": an order, not a stay.
            const TILL_LAST: &[&[&str]] = &[
                &["for", "last"],
                &["till", "last"],
                &["until", "last"],
                &["til", "last"],
                &["for", "the", "end"],
                &["till", "the", "end"],
                &["until", "the", "end"],
                &["to", "the", "end"],
                &["for", "the", "very", "end"],
                &["for", "the", "very", "last"],
            ];
            if c.action == Action::Verb(VerbKind::Leave)
                && TILL_LAST.iter().any(|seq| self.eat_seq(seq))
            {
                c.action = Action::Bare;
                c.last = true;
                continue;
            }
            if c.action == Action::Verb(VerbKind::Leave)
                && (self.eat_phrase(&self.g.verbs.leave_tails) || self.on_the_table())
            {
                continue;
            }
            // "off the table", "from the tabletop".
            if self.eat_phrase(&self.g.lexicon.from) {
                // "clear everything off it": nothing here stands on an object, so what things
                // come off is the table.
                if self.eat("it") {
                    c.from_table = true;
                    continue;
                }
                let _ = self.eat("the") || self.eat("this") || self.eat("that");
                if self.eat_table() {
                    c.from_table = true;
                    continue;
                }
                self.i = save;
            }
            // "... and put the orange cube in instead", "put the cube in there instead": into
            // the container the request already names (or the only one). A bare "there" is a
            // place pointed at, and stays unread.
            const SAME_PLACE: &[&[&str]] = &[
                &["in", "there", "instead"],
                &["in", "there", "too"],
                &["in", "there", "as", "well"],
                &["in", "instead"],
                &["in", "too"],
                &["in", "as", "well"],
                &["in", "also"],
                &["in", "there"],
                &["there", "instead"],
                &["in"],
                &["instead"],
            ];
            if let Some(n) = SAME_PLACE.iter().find_map(|p| {
                let fits = p
                    .iter()
                    .enumerate()
                    .all(|(k, w)| self.peek_at(k) == Some(w));
                let ends = self
                    .w
                    .get(self.i + p.len())
                    .is_none_or(|w| CONNECTORS.contains(&w.as_str()));
                (fits && ends).then_some(p.len())
            }) {
                c.same_place |= self.w[self.i] == "in" || self.w[self.i] == "there";
                self.i += n;
                continue;
            }
            if let Some(d) = self.dest()? {
                c.dest = Some(d);
                continue;
            }
            // "but" excepts only after everything/the table; otherwise it joins clauses.
            let universal_head = c.objects.iter().any(|o| match o {
                Item::Table => true,
                Item::Ref(r) => r.quantity == Quantity::All,
                _ => false,
            }) || c.objects.is_empty();
            if self.except_word() || (universal_head && self.eat("but")) {
                let before = self.i;
                match self.items(start) {
                    Ok(items) => {
                        // "clear the table, but the cup stays": the but-clause has its own verb.
                        let verb_follows = self.peek().is_some_and(|w| {
                            Grammar::is_form_of(w, &self.g.verbs.stay_verbs)
                                || matches!(w, "is" | "are" | "should" | "can" | "must" | "will")
                        });
                        if verb_follows && !subject {
                            self.i = save;
                            return Ok(());
                        }
                        c.except.extend(items);
                        continue;
                    }
                    Err(_) => {
                        if self.w[save] == "but" {
                            self.i = save;
                            return Ok(());
                        }
                        self.i = before;
                        return Err(self.unknown(start));
                    }
                }
            }
            // "too", "please", "for me" ... but never the connectors that end the clause.
            if !self.at_connector() && self.eat_phrase(&self.g.fillers) {
                continue;
            }
            return Ok(());
        }
    }

    /// A destination: "in the bin", "into the trash can", "on the floor" (refused).
    pub(super) fn dest(&mut self) -> Result<Option<Dest>, ParseError> {
        let save = self.i;
        let lex = &self.g.lexicon;
        if !self.eat_phrase(&lex.into) {
            return Ok(None);
        }
        let text_from = self.i;
        let _ = lex
            .definite
            .at(self.w, self.i)
            .map(|n| self.i += n)
            .is_some()
            || self.eat("a")
            || self.eat("an")
            || self.eat("my");
        let mut ordinal = None;
        if let Some(o) = self.peek().and_then(|w| lex.ordinals.get(w)) {
            ordinal = Some(*o);
            self.i += 1;
        }
        while self.peek().is_some_and(|w| lex.color(w).is_some()) {
            self.i += 1;
        }
        if let Some((classes, n)) = lex.containers.at(self.w, self.i) {
            self.i += n;
            let text = self.text(text_from);
            return Ok(Some(Dest::Container(ContainerRef {
                classes,
                ordinal,
                text,
            })));
        }
        let s = &self.g.safety;
        if s.floor_destinations.at(self.w, self.i).is_some()
            || self
                .peek()
                .is_some_and(|w| s.floor_words.iter().any(|f| f == w))
        {
            return Ok(Some(Dest::Refused(Refusal::unsafe_(
                s.floor_reason.clone(),
            ))));
        }
        if self.eat_table() {
            return Ok(Some(Dest::Refused(Refusal::out_of_scope(
                "the objects are already on the table; I can put them in a container",
            ))));
        }
        if let Some(n) = lex.places.at(self.w, self.i) {
            let place = self.w[self.i..self.i + n].join(" ");
            self.i += n;
            return Ok(Some(Dest::Refused(Refusal::out_of_scope(format!(
                "there is no {place} to put things in here; objects can only go into a container"
            )))));
        }
        if lex.class_at(self.w, self.i).is_some() {
            // "in the cup": objects are not containers.
            let word = self.w[self.i].clone();
            self.i += 1;
            return Ok(Some(Dest::Refused(Refusal::out_of_scope(format!(
                "a {word} is not a container; objects can only go into a container"
            )))));
        }
        // Not a destination at all ("to the left of ..."): let the caller read it.
        let word = self.peek().unwrap_or_default().to_string();
        let is_noun_like = !word.is_empty()
            && self.g.verb(&word).is_none()
            && !CONNECTORS.contains(&word.as_str())
            && !self.g.fillers.contains_word(&word)
            && lex.sides.get(&word).is_none()
            && !lex.self_words.contains_word(&word)
            && lex.relations.get(&word).is_none()
            && !matches!(
                word.as_str(),
                "left"
                    | "right"
                    | "front"
                    | "back"
                    | "top"
                    | "order"
                    | "there"
                    | "here"
                    | "which"
                    | "that"
            );
        if is_noun_like && self.i > text_from {
            self.i += 1;
            return Ok(Some(Dest::Refused(Refusal::not_understood(format!(
                "I do not know a place called '{word}'; objects can only go into a container"
            )))));
        }
        self.i = save;
        Ok(None)
    }
}

/// "Bin the can after the cup": a verbless clause led by "after" names what goes before the
/// clause just said, with its verb and destination; led by "before" ("bin the cup before the
/// can"), what goes after it, which is where it already stands.
fn order_against_previous(clauses: &mut Vec<Clause>, clause: &mut Clause, rel: &str) {
    let Some(prev) = clauses.last() else {
        return;
    };
    // "... goes in after it": after what was just done, which is the order as said.
    let orders = clause.action == Action::Bare
        && !clause.objects.is_empty()
        && !clause.objects.contains(&Item::Pronoun)
        && !clause.condition
        && !clause.remark
        && clause.dest.is_none()
        && matches!(prev.action, Action::Verb(k) if k != VerbKind::Leave)
        && !prev.objects.is_empty()
        && !prev.condition
        && !prev.remark
        && prev.sentence == clause.sentence;
    if orders && rel == "after" {
        let prev = clauses.pop().expect("checked above");
        clause.action = prev.action;
        clause.dest = prev.dest.clone();
        clause.away = prev.away;
        clause.from_table = prev.from_table;
        clause.text = format!("{} (before '{}')", clause.text, prev.text);
        clauses.push(std::mem::replace(clause, prev));
    }
}
