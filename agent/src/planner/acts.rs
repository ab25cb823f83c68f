//! From clauses to acts: each clause's verb decided, pronouns replaced by what they refer to,
//! verbless clauses given the verb and destination of the request around them, and what stays
//! collected. Grounding the acts in a scene is `refs.rs`; ordering and planning `embedded.rs`.

use super::grammar::VerbKind;
use super::parse::{Action, Clause, ContainerRef, Dest, Item, Quantity, Ref};
use super::refusal::Refusal;

/// What one clause comes to once the request is read as a whole.
#[derive(Clone, Debug)]
pub(super) struct Act {
    pub hold: bool,
    /// Everything on the table (minus what stays).
    pub everything: bool,
    pub items: Vec<Item>,
    pub except: Vec<Item>,
    pub dest: Option<Dest>,
    /// The destination came from the clause itself (not inherited).
    pub own_dest: bool,
    pub first: bool,
    pub last: bool,
    pub as_said: bool,
    pub only: bool,
    /// "the nearer one first": reorders the act before it.
    pub hint_for: Option<usize>,
    /// "in there", "in instead": the destination of the last act before it that has one.
    pub same_place: bool,
    /// "working from left to right": the superlative key its objects are ordered by.
    pub sweep: Option<String>,
    /// "if there's a pink cup, bin it, otherwise ...": done only when the condition holds
    /// (or, for the other branch, when it does not).
    pub guard: Option<Guard>,
    pub text: String,
}

/// A presence condition an act depends on: its objects, and whether the act is for when they
/// are there (`holds`) or for when they are not ("otherwise", "if the cup isn't there").
#[derive(Clone, Debug)]
pub(super) struct Guard {
    pub items: Vec<Item>,
    pub holds: bool,
    pub text: String,
}

/// What the clauses ask for: acts, what stays, and what the hand keeps away from (it stays
/// too).
pub(super) struct ReadActs {
    pub acts: Vec<Act>,
    pub stays: Vec<Item>,
    pub avoid: Vec<Item>,
}

/// Reads the clauses as acts, and what stays. `fixed` is the refusal for moving what cannot be
/// moved (the table, a container). `Err` is the refusal's reason.
pub(super) fn read_acts(clauses: &[Clause], fixed: &str) -> Result<ReadActs, Refusal> {
    let clauses: Vec<Clause> = clauses.iter().flat_map(split_trailing_ones).collect();
    let mut reading = Reading::new(&clauses, fixed);
    for (n, c) in clauses.iter().enumerate() {
        // A clause that only names objects for a later "it" ("the cup, put it away") or, when
        // it names several, for a later bare "one" ("see the two cubes? put the one on the
        // right in the bin").
        // (The parser gave such a "one" the group's kind: `parse::give_ones_their_group`.)
        let group: Vec<&Ref> = c
            .objects
            .iter()
            .filter_map(|o| match o {
                Item::Ref(r)
                    if matches!(
                        r.quantity,
                        Quantity::All | Quantity::Both | Quantity::Count(2..)
                    ) =>
                {
                    Some(r)
                }
                _ => None,
            })
            .collect();
        let one_of_group = |r: &Ref| {
            r.bare_one
                || (r.quantity == Quantity::Definite
                    && group
                        .iter()
                        .any(|g| g.classes == r.classes && g.colors == r.colors))
        };
        // ("the cubes, the left one first": a "one" with an order word orders the group; it
        // does not pick from it.)
        // ("do the two red cubes first: the left one, then ...": a group with its own order
        // word is an act, and the "one" after it orders it.)
        let ordered_group = c.first || c.last;
        let next_refers_back = clauses.get(n + 1).is_some_and(|next| {
            let orders = next.first || next.last || ordered_group;
            next.objects.iter().any(|o| {
                *o == Item::Pronoun
                    || matches!(o, Item::Ref(r) if r.anchored_on_pronoun())
                    || (!group.is_empty()
                        && !orders
                        && matches!(o, Item::Ref(r) if one_of_group(r)))
            })
        });
        let last = n + 1 == clauses.len();
        // "bin: leftmost object first, then the rest": a verb alone, then what it applies to,
        // named without a verb (they take the request's verb and destination).
        let verb_then_list = c.objects.is_empty()
            && matches!(c.dest, None | Some(Dest::Container(_)))
            && matches!(
                c.action,
                Action::Verb(VerbKind::Discard | VerbKind::Put) | Action::PutOrPick
            )
            && clauses.get(n + 1).is_some_and(|next| {
                next.action == Action::Bare && !next.objects.is_empty() && !next.condition
            });
        if verb_then_list {
            if let Some(d) = &c.dest {
                reading.dest_ahead = Some(d.clone());
            }
            continue;
        }
        reading.clause(c, next_refers_back, last)?;
    }
    reading.finish()
}

/// What reading the clauses in order carries from one clause to the next.
struct Reading<'a> {
    fixed: &'a str,
    acts: Vec<Act>,
    stays: Vec<Item>,
    /// What "avoid"/"don't touch" clauses name: they stay, and the hand keeps away.
    avoid: Vec<Item>,
    /// The items of the last clause that named objects: what "it"/"them" mean.
    antecedent: Vec<Item>,
    /// "tidy up everything except the carton. leave that one where it is": what a leave
    /// clause's "it" means after an exception.
    excepted: Vec<Item>,
    /// Acts of the verbless clauses just before ("leftmost object."): a verb with no object
    /// after them ("pick and hold.", "bin.") is what to do with them.
    bare_run: Vec<usize>,
    /// A destination said before its objects, and whether its order words hold for them.
    dest_ahead: Option<Dest>,
    as_said_ahead: bool,
    /// The last presence condition, and the sentence its "then" branch is in (that of the
    /// first act after it).
    condition: Option<Guard>,
    then_sentence: Option<usize>,
    /// The destination of an act a correction took back ("put the white can in the bin. oh
    /// wait, leave it"): where "do the red cube instead" goes.
    dest_taken_back: Option<Dest>,
    /// Some clause has a verb other than "leave".
    has_verb: bool,
    /// Some clause clears (the table, or objects away): puts without a destination go to the
    /// container then.
    clears: bool,
}

impl<'a> Reading<'a> {
    fn new(clauses: &[Clause], fixed: &'a str) -> Self {
        Self {
            fixed,
            acts: Vec::new(),
            stays: Vec::new(),
            avoid: Vec::new(),
            antecedent: Vec::new(),
            excepted: Vec::new(),
            bare_run: Vec::new(),
            dest_ahead: None,
            as_said_ahead: false,
            condition: None,
            then_sentence: None,
            dest_taken_back: None,
            has_verb: clauses.iter().any(|c| {
                matches!(c.action, Action::Verb(k) if k != VerbKind::Leave)
                    || c.action == Action::PutOrPick
            }),
            clears: clauses.iter().any(|c| {
                matches!(c.action, Action::Verb(VerbKind::Clear | VerbKind::Discard))
                    || c.from_table
                    || c.away
            }),
        }
    }

    /// One clause: its items, then the act it makes (if any).
    fn clause(&mut self, c: &Clause, next_refers_back: bool, last: bool) -> Result<(), Refusal> {
        // "pick it up and hold on to it": the hold tail continues the pick before it.
        if c.hold_tail && self.acts.last().is_some_and(|a| a.hold) {
            return Ok(());
        }
        let (mut items, from_pronoun) = self.items_of(c)?;
        let verb_alone = matches!(
            c.action,
            Action::PutOrPick | Action::Verb(VerbKind::Pick | VerbKind::Put | VerbKind::Discard)
        ) && items.is_empty();
        if verb_alone && !self.bare_run.is_empty() {
            self.finish_bare_run(c);
            return Ok(());
        }
        // "Cup first, then the cube. Both go in the bin.": a plural pronoun after verbless
        // objects says where all of them go (the last of them is its antecedent, the ones
        // before it are the verbless acts).
        let plural = c.text.split(' ').next().is_some_and(|w| {
            matches!(
                w,
                "both" | "they" | "all" | "these" | "those" | "them" | "each"
            )
        });
        if from_pronoun && plural && c.objects == [Item::Pronoun] && c.dest.is_some() {
            self.finish_bare_run(c);
        }
        // "take the blue box and put inside the bin", "take all the things from the table and
        // put in the container": the objects said once for both verbs, the put giving the
        // pick before it its destination.
        if verb_alone && c.dest.is_some() {
            if let Some(a) = self.acts.last_mut().filter(|a| a.dest.is_none()) {
                a.dest = c.dest.clone();
                a.own_dest = true;
                a.hold = false;
                return Ok(());
            }
        }
        mark_every_class(&mut items, c);
        anchor_on_previous_item(&mut items);
        drop_restated_place(&mut items);
        // "Put the white can in the bin - no wait, actually, just pick it up and hold on to
        // it": a correction that takes back what was asked of "it" replaces that act's part
        // for those objects.
        let instead = c.corrects && c.text.split(' ').any(|w| w == "instead");
        let retracted = ((c.cancels || instead) && from_pronoun).then(|| items.clone());
        if c.condition {
            self.condition = Some(Guard {
                items: items.clone(),
                holds: !c.negated,
                text: c.text.clone(),
            });
            self.then_sentence = None;
        }
        let Some(mut act) = self.shape(c, items, next_refers_back, last)? else {
            return Ok(());
        };
        act.guard = self.guard_for(c);
        if c.text.split(' ').any(|w| w == "instead") && act.dest.is_none() && !act.hold {
            if let Some(d) = self.dest_taken_back.take() {
                act.dest = Some(d);
                act.own_dest = true;
            }
        }
        // "Bin the red thing. Scratch that, bin everything that isn't red.": the acts before
        // are taken back.
        if c.cancels && !from_pronoun {
            self.acts.clear();
            self.bare_run.clear();
        }
        if let Some(retracted) = retracted {
            for k in (0..self.acts.len()).rev() {
                let a = &mut self.acts[k];
                if a.everything {
                    continue;
                }
                a.items.retain(|it| !retracted.contains(it));
                if a.items.is_empty() {
                    self.remove_act(k);
                }
            }
        }
        // "put the red cube in the bin, actually no, put the orange cube in instead": what a
        // correction asks instead replaces the object named last before it.
        if instead && !from_pronoun {
            if let Some(k) = self.acts.iter().rposition(|a| !a.items.is_empty()) {
                self.acts[k].items.pop();
                if self.acts[k].items.is_empty() && !self.acts[k].everything {
                    self.remove_act(k);
                }
            }
        }
        self.push(c, act, from_pronoun);
        Ok(())
    }

    /// The condition an act of `c` depends on: the last one said, for the clauses of the
    /// sentence that first acts after it, and for those said "otherwise".
    fn guard_for(&mut self, c: &Clause) -> Option<Guard> {
        let condition = self.condition.as_ref()?;
        if c.otherwise {
            return Some(Guard {
                holds: !condition.holds,
                ..condition.clone()
            });
        }
        let then = *self.then_sentence.get_or_insert(c.sentence);
        (then == c.sentence).then(|| condition.clone())
    }

    /// The clause's items with pronouns replaced; whether a pronoun was. Remembers them for the
    /// next pronoun, and refuses moving the table or a container.
    fn items_of(&mut self, c: &Clause) -> Result<(Vec<Item>, bool), Refusal> {
        let mut items: Vec<Item> = Vec::new();
        let mut from_pronoun = false;
        for it in &c.objects {
            if *it != Item::Pronoun {
                let mut it = it.clone();
                // "See the orange cube? Put the thing right next to it in the bin.": the "it"
                // a reference is related to is the one object named before.
                if let ([antecedent], Item::Ref(r)) = (self.antecedent.as_slice(), &mut it) {
                    r.anchor_pronoun_on(antecedent);
                }
                items.push(it);
                continue;
            }
            // "tidy this up", "clear it all": with nothing named before, the table.
            if self.antecedent.is_empty() && c.action == Action::Verb(VerbKind::Clear) {
                items.push(Item::Table);
                continue;
            }
            if self.antecedent.is_empty() {
                return Err(Refusal::unclear(format!(
                    "'{}': 'it' or 'them' refers to nothing named before it",
                    c.text
                )));
            }
            if c.action == Action::Verb(VerbKind::Leave) && !self.excepted.is_empty() {
                items.extend(self.excepted.iter().cloned());
            } else {
                items.extend(self.antecedent.iter().cloned());
            }
            from_pronoun = true;
        }
        if !items.is_empty() {
            self.antecedent = items.clone();
        }
        self.excepted = c.except.clone();
        // A remark moves nothing: "clear the table, it's way too cluttered" says something
        // of the table.
        let leave = c.action == Action::Verb(VerbKind::Leave) || c.remark;
        if !leave && items.iter().any(|it| matches!(it, Item::Container(_))) {
            return Err(Refusal::unsafe_(self.fixed));
        }
        let table_ok =
            matches!(c.action, Action::Verb(VerbKind::Clear | VerbKind::Leave)) || c.remark;
        if items.contains(&Item::Table) && !table_ok {
            return Err(Refusal::unsafe_(self.fixed));
        }
        Ok((items, from_pronoun))
    }

    /// "Leftmost object. Pick and hold." / "... Bin.": a verb with no object says what to do
    /// with the verbless clauses just before it.
    fn finish_bare_run(&mut self, c: &Clause) {
        for &k in &self.bare_run {
            let a = &mut self.acts[k];
            match (&c.dest, c.action) {
                (Some(d), _) => {
                    a.dest = Some(d.clone());
                    a.own_dest = true;
                }
                (None, Action::PutOrPick | Action::Verb(VerbKind::Pick)) if !c.away => {
                    a.hold = true;
                }
                _ => {}
            }
        }
    }

    /// The act the clause's action makes of its items; `None` when the clause makes no act of
    /// its own (nothing, what stays, a destination for other clauses, a name for a later "it").
    fn shape(
        &mut self,
        c: &Clause,
        items: Vec<Item>,
        next_refers_back: bool,
        last: bool,
    ) -> Result<Option<Act>, Refusal> {
        let mut act = Act {
            hold: false,
            everything: false,
            items: items.clone(),
            except: c.except.clone(),
            dest: c.dest.clone(),
            own_dest: c.dest.is_some(),
            first: c.first,
            last: c.last,
            as_said: c.as_said,
            only: c.only,
            hint_for: None,
            same_place: c.same_place,
            sweep: c.sweep.clone(),
            guard: None,
            text: c.text.clone(),
        };
        let away = c.away || c.from_table;
        match c.action {
            Action::Nothing => return Ok(None),
            Action::Verb(VerbKind::Leave) if c.corrects && !self.acts.is_empty() => {
                // "Put the red cube in the bin. Actually no, leave the red one": taken back
                // from what was asked before.
                if c.avoid {
                    self.avoid.extend(items.iter().cloned());
                }
                // "Put the white can in the bin. Oh wait, leave it": the very objects an act
                // named are taken out of it (an act left with none is dropped).
                for k in (0..self.acts.len()).rev() {
                    let a = &mut self.acts[k];
                    if a.everything || !a.items.iter().any(|it| items.contains(it)) {
                        continue;
                    }
                    a.items.retain(|it| !items.contains(it));
                    if a.items.is_empty() {
                        if a.dest.is_some() {
                            self.dest_taken_back = a.dest.clone();
                        }
                        self.remove_act(k);
                    }
                }
                for a in &mut self.acts {
                    // "... the two white cans. Oh wait, I still need the closer one": a bare
                    // "one" is one of that act's kind.
                    let kind = a.items.iter().find_map(|it| match it {
                        Item::Ref(r) if r.classes.is_some() || !r.colors.is_empty() => {
                            Some((r.classes.clone(), r.colors.clone()))
                        }
                        _ => None,
                    });
                    for it in &items {
                        let mut it = it.clone();
                        if let (Item::Ref(r), Some((classes, colors))) = (&mut it, &kind) {
                            r.take_kind_of(classes, colors);
                        }
                        a.except.push(it);
                    }
                }
                return Ok(None);
            }
            Action::Verb(VerbKind::Leave) => {
                // "don't touch any of the cans": none of them moves.
                let items: Vec<Item> = items
                    .into_iter()
                    .map(|it| match it {
                        Item::Ref(mut r) if r.quantity == Quantity::Any => {
                            r.quantity = Quantity::All;
                            Item::Ref(r)
                        }
                        other => other,
                    })
                    .collect();
                if c.avoid {
                    self.avoid.extend(items.iter().cloned());
                }
                self.stays.extend(items);
                return Ok(None);
            }
            Action::DestOnly => {
                self.destination_only(c, last)?;
                return Ok(None);
            }
            Action::Verb(VerbKind::Clear) => {
                act.everything = items.is_empty() || items.contains(&Item::Table);
                if act.everything {
                    act.items.clear();
                }
            }
            Action::Verb(VerbKind::Discard) => {
                if items.is_empty() {
                    if !away {
                        return Err(Refusal::unclear(format!("'{}': say which objects", c.text)));
                    }
                    act.everything = true;
                }
            }
            Action::Verb(VerbKind::Put) => {
                if items.is_empty() {
                    return Err(Refusal::unclear(format!("'{}': say which objects", c.text)));
                }
            }
            Action::PutOrPick | Action::Verb(VerbKind::Pick) => {
                if items.is_empty() {
                    return Err(Refusal::unclear(format!("'{}': say which object", c.text)));
                }
                act.hold = c.dest.is_none() && !away;
                // "put the purple box in the garbage, after take the yellow cup also": "take"
                // with "also" or "too" after a put goes where that put went.
                let adds = c.text.split(' ').any(|w| matches!(w, "also" | "too"));
                if act.hold
                    && c.action == Action::PutOrPick
                    && adds
                    && self
                        .acts
                        .last()
                        .is_some_and(|a| a.dest.is_some() && !a.hold)
                {
                    act.hold = false;
                    act.same_place = true;
                }
            }
            // What a remark says of its objects is not checked; they are what the next "it"
            // means ("the mug is chipped, bin it"), and nothing is done to them otherwise.
            Action::Bare if c.remark => return Ok(None),
            // A presence condition is no act: the acts it guards are kept or dropped where
            // the request is grounded (`Act::guard`).
            Action::Bare if c.condition => return Ok(None),
            Action::Bare | Action::StartWith => {
                if next_refers_back && c.action == Action::Bare && c.dest.is_none() {
                    return Ok(None);
                }
                self.verbless(c, &mut act)?;
                if items.is_empty() {
                    return Err(Refusal::unclear(format!("'{}': say which objects", c.text)));
                }
            }
        }
        Ok(Some(act))
    }

    /// "... and into the bin": the destination of the acts before that have none of their own;
    /// with none before, of what follows.
    fn destination_only(&mut self, c: &Clause, last: bool) -> Result<(), Refusal> {
        let Some(d) = &c.dest else {
            return Ok(());
        };
        let mut any = false;
        for a in self.acts.iter_mut().rev() {
            if a.own_dest {
                break;
            }
            a.dest = Some(d.clone());
            a.own_dest = true;
            a.hold = false;
            any = true;
        }
        if !any {
            // "Into the bin, in this order: the cup, then the can": the destination of what
            // follows, if anything follows.
            if last {
                return Err(Refusal::unclear(format!("'{}': put what there?", c.text)));
            }
            self.dest_ahead = Some(d.clone());
            self.as_said_ahead = c.as_said;
        }
        Ok(())
    }

    /// A clause without a verb: an order hint for the act before ("the nearer one first"), or
    /// the verb and destination of the act before ("..., then the cup").
    fn verbless(&self, c: &Clause, act: &mut Act) -> Result<(), Refusal> {
        let one_words = !act.items.is_empty()
            && act
                .items
                .iter()
                .all(|i| matches!(i, Item::Ref(r) if (r.bare_one || r.one_of_group) && !r.other));
        // "the two cans, the nearer one first" orders what was named; after one object ("the
        // left can, then the right one") it names one more.
        let after_one = self
            .acts
            .iter()
            .rev()
            .find(|a| a.hint_for.is_none())
            .is_some_and(|a| a.items.len() == 1 && names_one(&a.items[0]));
        // "the left one, then the other one": after a hint, the other ones of its group come
        // after it (a hint to the same act, at the back).
        let other_ones = !act.items.is_empty()
            && act
                .items
                .iter()
                .all(|i| matches!(i, Item::Ref(r) if (r.bare_one || r.one_of_group) && r.other));
        if let Some(h) = self
            .acts
            .last()
            .and_then(|a| a.hint_for)
            .filter(|_| other_ones)
        {
            act.hint_for = Some(h);
            act.first = false;
            act.last = true;
            return Ok(());
        }
        if one_words && !self.acts.is_empty() && !after_one {
            act.hint_for = Some(self.acts.len() - 1);
        } else if let Some(prev) = self.acts.iter().rev().find(|a| a.hint_for.is_none()) {
            // "put the cube in the bin, then the cup": the verb before.
            act.hold = prev.hold;
            if act.dest.is_none() {
                act.dest = prev.dest.clone();
                // "the green can goes in first, then the rest": wherever that one goes.
                act.same_place |= prev.same_place && prev.dest.is_none();
            }
        }
        // (Objects named alone as the whole request, "Both orange cubes, please.", keep no
        // verb and no destination: clearing is what this arm does, so they go where "clear"
        // puts things.)
        if c.action == Action::StartWith {
            act.first = true;
        }
        Ok(())
    }

    /// Drops act `k` with the hints that order it, keeping every other act's index (in
    /// `bare_run` and `hint_for`) pointing at the same act.
    fn remove_act(&mut self, k: usize) {
        let drop: Vec<bool> = (0..self.acts.len())
            .map(|j| j == k || self.acts[j].hint_for == Some(k))
            .collect();
        // Old index -> new index, for the acts that stay.
        let new_index: Vec<Option<usize>> = drop
            .iter()
            .scan(0, |next, &gone| {
                Some((!gone).then(|| {
                    *next += 1;
                    *next - 1
                }))
            })
            .collect();
        let mut j = 0;
        self.acts.retain(|_| {
            j += 1;
            !drop[j - 1]
        });
        for a in &mut self.acts {
            a.hint_for = a.hint_for.and_then(|h| new_index[h]);
        }
        self.bare_run = self.bare_run.iter().filter_map(|&b| new_index[b]).collect();
    }

    fn push(&mut self, c: &Clause, mut act: Act, from_pronoun: bool) {
        // "pick up the cube and put it in the bin": the pick is part of the put.
        if from_pronoun {
            if let Some(prev) = self.acts.last() {
                if prev.hold && prev.items == act.items {
                    self.acts.pop();
                }
            }
        }
        if act.dest.is_none() {
            if let Some(d) = &self.dest_ahead {
                act.dest = Some(d.clone());
                act.as_said |= self.as_said_ahead;
            }
        }
        if c.action == Action::Bare && act.hint_for.is_none() {
            self.bare_run.push(self.acts.len());
        } else if act.hint_for.is_none() {
            self.bare_run.clear();
        }
        self.acts.push(act);
    }

    /// The passes over all acts: destinations required, "first" carried along a chain, "only"
    /// over a plain "clear".
    fn finish(self) -> Result<ReadActs, Refusal> {
        let Self {
            mut acts,
            stays,
            avoid,
            clears,
            has_verb,
            ..
        } = self;
        let mut before: Option<Dest> = None;
        for a in acts.iter_mut() {
            if a.dest.is_none() && a.same_place {
                // "the green can goes in first" with no container named before: in the
                // container (any; grounding refuses where the scene has several).
                a.dest = Some(before.clone().unwrap_or_else(|| {
                    Dest::Container(ContainerRef {
                        classes: vec!["*".into()],
                        ordinal: None,
                        text: "in".into(),
                    })
                }));
            }
            if a.dest.is_some() {
                before = a.dest.clone();
            }
        }
        // "Start with the red cube, then put everything else in the bin": what comes first
        // goes where the acts after it go.
        for k in 0..acts.len() {
            if acts[k].dest.is_none() && acts[k].first && !acts[k].hold {
                acts[k].dest = acts[k + 1..].iter().find_map(|a| a.dest.clone());
            }
        }
        // Verbless requests ("first the can, then everything else") and puts with no
        // destination in a clearing request go to the container.
        for a in &acts {
            if a.dest.is_none() && !a.hold && !(clears || !has_verb || a.hint_for.is_some()) {
                return Err(Refusal::unclear(format!(
                    "'{}': say where to put it",
                    a.text
                )));
            }
        }
        // "clear the table; the cup first, then the box, then the rest": what follows a first
        // act in a chain of named objects comes before the rest too.
        for k in 1..acts.len() {
            let named = !acts[k].everything
                && !acts[k].last
                && acts[k].hint_for.is_none()
                && !acts[k]
                    .items
                    .iter()
                    .any(|i| matches!(i, Item::Ref(r) if r.other));
            if acts[k - 1].first && acts[k - 1].hint_for.is_none() && named {
                acts[k].first = true;
            }
        }
        // "only the blue ones": a clause naming objects with "only" replaces a plain "clear".
        if acts.iter().any(|a| a.only && !a.everything) {
            acts.retain(|a| !a.everything || a.only);
        }
        Ok(ReadActs { acts, stays, avoid })
    }
}

/// "all the blocks except the purple box": an exception of a word's other class says the word
/// was meant with all its classes.
fn mark_every_class(items: &mut [Item], c: &Clause) {
    for it in items {
        if let Item::Ref(r) = it {
            let others = r.classes.as_deref().map_or(&[][..], |c| &c[1..]);
            r.every_class = c.except.iter().any(|e| {
                matches!(e, Item::Ref(x) if x.classes.as_deref().is_some_and(|xc| {
                    xc.first().is_some_and(|first| others.contains(first))
                }))
            });
        }
    }
}

/// "dispose of the two cans, the nearer one first": the trailing "one" words are a clause of
/// their own that orders the objects before them (as "..., then the nearer one first" is);
/// so is "get rid of all the cans, the green can first", a definite object of the group named
/// before it. "Clear the table, the cup first": what follows the whole table is a clause of its
/// own, its objects put before the rest.
fn split_trailing_ones(c: &Clause) -> Vec<Clause> {
    if !(c.first || c.last) {
        return vec![c.clone()];
    }
    let picks_from_group = |k: usize| {
        match &c.objects[k] {
        Item::Ref(r) if !r.other => {
            r.bare_one
                || r.one_of_group
                || (matches!(r.quantity, Quantity::Definite | Quantity::Any)
                    && c.objects[..k].iter().any(|g| {
                        matches!(g, Item::Ref(g) if (r.classes.is_none() || g.classes == r.classes) && matches!(
                            g.quantity,
                            Quantity::All | Quantity::Both | Quantity::Count(2..)
                        ))
                    }))
        }
        _ => false,
    }
    };
    // "then the blue box ..., and the purple box last": after a comma and "and", the order
    // word that ends the list is its final object's (the rest keep the clause's place).
    let n = c.objects.len();
    let final_ones = n > 1
        && c.text.contains(", and ")
        && (c.text.ends_with(" last") || c.text.ends_with(" first"))
        && names_one(&c.objects[n - 1]);
    if final_ones {
        let mut main = c.clone();
        main.objects.truncate(n - 1);
        main.first = false;
        main.last = false;
        let mut tail = c.clone();
        tail.objects = vec![c.objects[n - 1].clone()];
        return vec![main, tail];
    }
    let mut k = c.objects.len();
    while k > 0 && picks_from_group(k - 1) {
        k -= 1;
    }
    let split = if k > 0 && k < c.objects.len() {
        Some((k, true))
    } else if c.objects.len() > 1
        && whole_table(&c.objects[0])
        && c.objects[1..]
            .iter()
            .all(|o| matches!(o, Item::Ref(r) if !r.other))
    {
        Some((1, false))
    } else {
        None
    };
    let Some((k, hint)) = split else {
        return vec![c.clone()];
    };
    let mut main = c.clone();
    main.objects.truncate(k);
    main.first = false;
    main.last = false;
    let mut ones = Clause::new(Action::Bare);
    ones.objects = c.objects[k..].to_vec();
    if hint {
        // Read as an order hint (`verbless`): the objects are among those just named.
        for o in &mut ones.objects {
            if let Item::Ref(r) = o {
                r.bare_one = true;
            }
        }
    }
    ones.first = c.first;
    ones.last = c.last;
    ones.text = c.text.clone();
    vec![main, ones]
}

/// The table or everything on it ("everything", "it all").
fn whole_table(item: &Item) -> bool {
    match item {
        Item::Table => true,
        Item::Ref(r) => {
            r.quantity == Quantity::All
                && r.classes.is_none()
                && r.colors.is_empty()
                && r.rank.is_none()
                && r.relation.is_none()
                && !r.other
        }
        _ => false,
    }
}

/// Whether a reference names exactly one object ("the red cube"), so leaving it and moving it
/// in the same request contradict each other.
pub(super) fn names_one(item: &Item) -> bool {
    match item {
        Item::Ref(r) if r.other => false,
        Item::Ref(r) => {
            matches!(r.quantity, Quantity::Definite | Quantity::Any)
                // "whatever's closest to you": the one that ranks first ("the left side of the
                // table" is a region, many).
                || (r.quantity == Quantity::All && r.rank.is_some() && !r.side_region)
        }
        _ => false,
    }
}

/// "Bin the yellow cup and the box next to it": an "it" that a reference is related to, inside
/// a list, is the item said just before it in that list.
fn anchor_on_previous_item(items: &mut [Item]) {
    for k in 1..items.len() {
        let previous = items[k - 1].clone();
        if let (false, Item::Ref(r)) = (previous == Item::Pronoun, &mut items[k]) {
            r.anchor_pronoun_on(&previous);
        }
    }
}

/// "Clear off the right side of the table, everything over there into the bin": "everything
/// (over) there" after an item of the same list says that item again, not the whole table.
fn drop_restated_place(items: &mut Vec<Item>) {
    let restates = |it: &Item| {
        matches!(it, Item::Ref(r) if r.quantity == Quantity::All
            && r.classes.is_none()
            && r.colors.is_empty()
            && r.rank.is_none()
            && r.relation.is_none()
            && r.text.split(' ').next_back() == Some("there"))
    };
    let mut k = 1;
    while k < items.len() {
        if restates(&items[k]) {
            items.remove(k);
        } else {
            k += 1;
        }
    }
}
