//! Object references ("the red cube", "both cans", "the leftmost cup", "the cube next to the
//! cup", "the second box from the right") parsed with the grammar's lexicon and grounded against
//! the scene graph.

use crate::types::{SceneGraph, SceneObject};

use super::grammar::Lexicon;

/// How many objects a reference asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Quantity {
    /// "the red cube": exactly one must match.
    Definite,
    /// "a cube": any one.
    Any,
    /// "the cubes", "all cubes", "every cup".
    All,
    /// "both cans".
    Both,
    /// "two cubes".
    Count(usize),
}

#[derive(Clone, Debug)]
struct Reference {
    quantity: Quantity,
    color: Option<String>,
    /// Classes the noun may mean; `None` = any.
    classes: Option<Vec<String>>,
    noun: String,
    superlative: Option<String>,
    ordinal: Option<(i64, bool)>,
    relation: Option<(String, Box<Reference>)>,
}

/// Grounds a reference list such as "the red cube and the cups" to object ids, in mention order.
pub fn ground_list(
    text: &str,
    lex: &Lexicon,
    scene: &SceneGraph,
    on_table: &[&SceneObject],
) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for part in split_list(text) {
        for id in ground(&part, lex, scene, on_table)? {
            if !out.contains(&id) {
                out.push(id);
            }
        }
    }
    Ok(out)
}

fn split_list(text: &str) -> Vec<String> {
    text.replace(", and ", ", ")
        .replace(" and ", ", ")
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Grounds one reference.
fn ground(
    text: &str,
    lex: &Lexicon,
    scene: &SceneGraph,
    on_table: &[&SceneObject],
) -> Result<Vec<String>, String> {
    let r = parse(text, lex)?;
    resolve(&r, text, scene, on_table)
}

fn parse(text: &str, lex: &Lexicon) -> Result<Reference, String> {
    // A relation splits the phrase into the head and its anchor: "the cube | next to | the cup".
    let padded = format!(" {text} ");
    for [phrase, rel] in &lex.relations {
        if let Some(at) = padded.find(&format!(" {phrase} ")) {
            let head = padded[..at].trim();
            let anchor = padded[at + phrase.len() + 2..].trim();
            if !head.is_empty() && !anchor.is_empty() {
                let mut r = parse(head, lex)?;
                r.relation = Some((rel.clone(), Box::new(parse(anchor, lex)?)));
                return Ok(r);
            }
        }
    }
    let mut words: Vec<&str> = text.split_whitespace().collect();
    let mut r = Reference {
        quantity: Quantity::Definite,
        color: None,
        classes: None,
        noun: String::new(),
        superlative: None,
        ordinal: None,
        relation: None,
    };
    // "from the left/right" belongs to an ordinal.
    let mut from_right = false;
    if words.len() >= 3 && words[words.len() - 3] == "from" && words[words.len() - 2] == "the" {
        from_right = words[words.len() - 1] == "right";
        words.truncate(words.len() - 3);
    }
    let mut i = 0;
    // Determiners and quantifiers (longest first: "all of the").
    let mut universal: Vec<&String> = lex.universal.iter().collect();
    universal.sort_by_key(|u| std::cmp::Reverse(u.split(' ').count()));
    for u in universal {
        let n = u.split(' ').count();
        if words.len() >= n && words[..n].join(" ") == *u {
            r.quantity = if u.starts_with("both") {
                Quantity::Both
            } else {
                Quantity::All
            };
            i = n;
            break;
        }
    }
    if i == 0 {
        if let Some(w) = words.first() {
            if lex.definite.iter().any(|d| d == w) {
                i = 1;
            } else if let Some(n) = lex.numbers.get(*w).copied().or_else(|| w.parse().ok()) {
                if n != 1
                    || words.len() > 1 && lex.plurals.iter().any(|p| p == words[words.len() - 1])
                {
                    r.quantity = Quantity::Count(n);
                    i = 1;
                } else {
                    r.quantity = Quantity::Any;
                    i = 1;
                }
            } else if lex.indefinite.iter().any(|d| d == w) && words.len() > 1 {
                r.quantity = Quantity::Any;
                i = 1;
            }
        }
    }
    let mut rest: Vec<&str> = words[i..].to_vec();
    let noun = rest
        .pop()
        .ok_or_else(|| format!("'{text}' names no object"))?;
    for w in rest {
        if lex.colors.iter().any(|c| c == w) {
            r.color = Some(if w == "grey" {
                "gray".into()
            } else {
                w.to_string()
            });
        } else if let Some(s) = lex.superlatives.get(w) {
            r.superlative = Some(s.clone());
        } else if let Some(o) = lex.ordinals.get(w) {
            r.ordinal = Some((*o, from_right));
        } else if lex.numbers.contains_key(w) {
            if let Some(n) = lex.numbers.get(w) {
                r.quantity = Quantity::Count(*n);
            }
        } else {
            return Err(format!("I do not know the word '{w}' in '{text}'"));
        }
    }
    if lex.colors.iter().any(|c| c == noun) {
        // "the red" alone: a colour used as a noun.
        r.color = Some(noun.to_string());
        r.noun = "object".into();
        return Ok(r);
    }
    let classes = lex
        .classes
        .get(noun)
        .ok_or_else(|| format!("I do not know what '{noun}' is in '{text}'"))?;
    r.classes = if classes.iter().any(|c| c == "*") {
        None
    } else {
        Some(classes.clone())
    };
    r.noun = noun.to_string();
    if lex.plurals.iter().any(|p| p == noun) && r.quantity == Quantity::Definite {
        r.quantity = Quantity::All;
    }
    Ok(r)
}

fn describe(r: &Reference) -> String {
    let mut d = String::new();
    if let Some(c) = &r.color {
        d.push_str(c);
        d.push(' ');
    }
    d.push_str(if r.noun.is_empty() { "object" } else { &r.noun });
    d
}

fn resolve(
    r: &Reference,
    text: &str,
    scene: &SceneGraph,
    on_table: &[&SceneObject],
) -> Result<Vec<String>, String> {
    let mut c: Vec<&SceneObject> = on_table
        .iter()
        .copied()
        .filter(|o| r.color.as_ref().is_none_or(|col| &o.color == col))
        .filter(|o| {
            r.classes
                .as_ref()
                .is_none_or(|cl| cl.iter().any(|k| k == &o.class))
        })
        .collect();
    if c.is_empty() {
        return Err(format!("there is no {} on the table", describe(r)));
    }
    let pos = |o: &SceneObject| o.pose_in_base.translation.vector;
    if let Some((rel, anchor_ref)) = &r.relation {
        let anchors = resolve(anchor_ref, text, scene, on_table)?;
        if anchors.len() != 1 {
            return Err(format!(
                "'{text}': the {} to relate to is not unique",
                describe(anchor_ref)
            ));
        }
        let a = scene.object(&anchors[0]).map(pos).unwrap_or_default();
        c.retain(|o| o.id != anchors[0]);
        match rel.as_str() {
            "left" => c.retain(|o| pos(o).y > a.y),
            "right" => c.retain(|o| pos(o).y < a.y),
            "behind" => c.retain(|o| pos(o).x > a.x),
            "front" => c.retain(|o| pos(o).x < a.x),
            _ => {
                // "next to": the candidates nearest the anchor, within a hand's width of it.
                c.sort_by(|p, q| {
                    (pos(p) - a)
                        .xy()
                        .norm()
                        .total_cmp(&(pos(q) - a).xy().norm())
                });
                if let Some(best) = c.first().map(|o| (pos(o) - a).xy().norm()) {
                    c.retain(|o| (pos(o) - a).xy().norm() <= (best + 0.03).max(0.15));
                }
            }
        }
        if c.is_empty() {
            return Err(format!(
                "there is no {} {rel} of the {}",
                describe(r),
                describe(anchor_ref)
            ));
        }
    }
    // Left is +y seen from the robot (facing +x).
    let left_to_right = |c: &mut Vec<&SceneObject>| {
        c.sort_by(|p, q| pos(q).y.total_cmp(&pos(p).y).then(p.id.cmp(&q.id)))
    };
    if let Some(s) = &r.superlative {
        let key = |o: &SceneObject| -> f64 {
            match s.as_str() {
                "left" => -pos(o).y,
                "right" => pos(o).y,
                "near" => pos(o).xy().norm(),
                "far" => -pos(o).xy().norm(),
                "big" => -(o.extents.x * o.extents.y * o.extents.z),
                "small" => o.extents.x * o.extents.y * o.extents.z,
                _ => -o.extents.z,
            }
        };
        c.sort_by(|p, q| key(p).total_cmp(&key(q)).then(p.id.cmp(&q.id)));
        c.truncate(1);
    }
    if let Some((k, from_right)) = r.ordinal {
        left_to_right(&mut c);
        if from_right {
            c.reverse();
        }
        let idx = if k < 0 { c.len() as i64 + k } else { k - 1 };
        if idx < 0 || idx as usize >= c.len() {
            return Err(format!(
                "'{text}': there are only {} matching objects",
                c.len()
            ));
        }
        c = vec![c[idx as usize]];
    }
    let chosen: Vec<&SceneObject> = match r.quantity {
        Quantity::All => c,
        Quantity::Definite if c.len() == 1 || r.superlative.is_some() || r.ordinal.is_some() => c,
        Quantity::Definite => {
            left_to_right(&mut c);
            return Err(format!(
                "'{text}' is ambiguous: {} objects match ({}); say which, e.g. 'the leftmost {}'",
                c.len(),
                c.iter()
                    .map(|o| o.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                describe(r)
            ));
        }
        Quantity::Both if c.len() == 2 => c,
        Quantity::Both => return Err(format!("'{text}': {} objects match, not two", c.len())),
        Quantity::Any => {
            c.sort_by(|p, q| {
                pos(p)
                    .xy()
                    .norm()
                    .total_cmp(&pos(q).xy().norm())
                    .then(p.id.cmp(&q.id))
            });
            c.truncate(1);
            c
        }
        Quantity::Count(n) if c.len() >= n => {
            c.sort_by(|p, q| {
                pos(p)
                    .xy()
                    .norm()
                    .total_cmp(&pos(q).xy().norm())
                    .then(p.id.cmp(&q.id))
            });
            c.truncate(n);
            c
        }
        Quantity::Count(n) => {
            return Err(format!(
                "'{text}': only {} {} on the table, not {n}",
                c.len(),
                describe(r)
            ))
        }
    };
    Ok(chosen.iter().map(|o| o.id.clone()).collect())
}
